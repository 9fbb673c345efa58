"""Password hashing and policy, JWTs, secret hashing."""
