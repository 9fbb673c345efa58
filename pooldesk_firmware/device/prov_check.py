# Field checks for provisioning requests (docs/provisioning.md §7). Raise CheckError naming
# the field; nothing is applied when a check fails.


class CheckError(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


_HEX = "0123456789abcdefABCDEF"


def _text(obj, field, lo, hi, what=None):
    value = obj.get(field)
    if not isinstance(value, str):
        raise CheckError(field, "%s must be text" % field)
    n = len(value)
    if n < lo or n > hi:
        raise CheckError(field, "%s must be %d to %d characters" % (what or field, lo, hi))
    for ch in value:
        code = ord(ch)
        if code < 0x20 and field != "ca_cert":
            raise CheckError(field, "%s contains control characters" % field)
        if 0xD800 <= code <= 0xDFFF:  # a lone surrogate: JSON allows it, UTF-8 cannot carry it
            raise CheckError(field, "%s is not valid Unicode text" % field)
    return value


def check_ssid(obj):
    ssid = _text(obj, "ssid", 1, 32, "the Wi-Fi name")
    if len(ssid.encode()) > 32:
        raise CheckError("ssid", "the Wi-Fi name must be at most 32 bytes")
    return ssid


def check_password(obj):
    """Empty (an open network), 8 to 63 bytes of UTF-8 (a WPA passphrase), or exactly 64 hex
    digits (a raw WPA key). The ESP32 takes at most 64 bytes, and 64 means a raw key."""
    password = _text(obj, "password", 0, 64, "the Wi-Fi password")
    n = len(password.encode())
    if n == 64 and len(password) == 64:
        for ch in password:
            if ch not in _HEX:
                raise CheckError("password", "a 64-character Wi-Fi key must be hex digits")
    elif 0 < n < 8 or n > 63:
        raise CheckError("password", "a Wi-Fi password has 8 to 63 bytes (or none)")
    return password


def check_broker_url(obj):
    url = _text(obj, "broker_url", 1, 256, "the broker URL")
    for scheme in ("mqtt://", "mqtts://"):
        if url.startswith(scheme):
            rest = url[len(scheme):]
            host = rest.split("/")[0].split(":")[0] if not rest.startswith("[") else rest
            if host and " " not in url:
                return url
    raise CheckError("broker_url", "the broker URL must look like mqtts://host:port")


def check_topic_prefix(obj):
    prefix = _text(obj, "topic_prefix", 1, 256, "the topic prefix")
    if "+" in prefix or "#" in prefix or prefix.startswith("/") or prefix.endswith("/"):
        raise CheckError(
            "topic_prefix", "the topic prefix may not contain + or # or start/end with /"
        )
    return prefix


def check_ca_cert(obj):
    value = obj.get("ca_cert")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 6000:
        raise CheckError("ca_cert", "ca_cert must be a PEM certificate of at most 6000 characters")
    if "-----BEGIN CERTIFICATE-----" not in value or "-----END CERTIFICATE-----" not in value:
        raise CheckError("ca_cert", "ca_cert must be a PEM certificate")
    return value


def check_binding(obj):
    """Return a clean binding dict with exactly the contract's keys."""
    if not isinstance(obj, dict):
        raise CheckError("binding", "binding must be an object")
    return {
        "ssid": check_ssid(obj),
        "password": check_password(obj),
        "broker_url": check_broker_url(obj),
        # empty user and password: a broker without logins (tests, a local broker)
        "mqtt_user": _text(obj, "mqtt_user", 0, 128, "the MQTT user"),
        "mqtt_password": _text(obj, "mqtt_password", 0, 256, "the MQTT password"),
        "client_id": _text(obj, "client_id", 1, 128, "the MQTT client id"),
        "topic_prefix": check_topic_prefix(obj),
        "username": _text(obj, "username", 1, 64, "the username"),
        "ca_cert": check_ca_cert(obj),
    }


def check_wifi(obj):
    return check_ssid(obj), check_password(obj)


def check_int(obj, field, default, lo, hi):
    value = obj.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or value > hi:
        raise CheckError(field, "%s must be a whole number from %d to %d" % (field, lo, hi))
    return value
