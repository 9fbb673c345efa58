"""The broker layer as a backend extension (`extension.py`, loaded by `extensions.py`).

It serves `GET /api/auth/mqtt-credentials` and `POST /api/devices/{deviceId}/credentials`, deletes
logins at the broker when sessions, devices or accounts end (account events), and keeps the
`mqtt_logins` table and the broker in agreement:

    pending_put     written before the broker is asked; becomes `synced` once it answered
    synced          the broker has the login
    pending_delete  the login must go (session/device/account ended, replaced by a newer one,
                    or issuing failed); the reconcile loop deletes it at the broker, then the row

Every issue creates a login under a new name (`logins.new_generation`) with the owner's fixed
client id, and the owner's older logins are retired only after the broker confirmed the new one
(a device's only once its latest log-in was with it: it may go back to its stored settings):
a failed or timed-out issue never touches the working login. Names are never reused and a row
never goes back from `pending_delete`, so a stale deletion cannot remove a fresh login, whichever
process runs it (the per-login lock only orders work inside one process; a put of a dashboard
login's rights is read again once the broker answered and repeated if another process changed
them meanwhile: `settling.py`). The reconcile loop
also removes session logins whose session is gone, revoked or expired, `pending_put` rows an issue
abandoned (a backend killed meanwhile) and all but the newest login of each session, and of each
device whose latest log-in was with its newest (`BrokerBackend.logins_used`).
Each row keeps the login's password as a dynamic-security hash (`password_hash`), so `broker
sync` can put back on a managed broker the logins its lost store held, old passwords included.

A broker that is down while a credential is issued answers 503; one that is down while logins
are revoked delays the revocation (the request waits at most `INLINE_BUDGET_S`), and retained
messages to clear become `broker_jobs` rows, retried until they succeed. `/healthz` reads this
extension's cached `health_report()`.

One job per module:

    config.py     which back end, from the settings and environment; the layer's limits
    state.py      what the parts share (the back end, the app context, per-login locks, ...)
    ledger.py     the `mqtt_logins` rows: writing them, and the SQL that says which are stale
    issuing.py    the issuing state machine (record, put, confirm, retire the replaced)
    revoking.py   deleting a login at the broker, then its row; a device left without a login
                  says offline
    regrant.py    new rights for live dashboard logins after a change of shares
    settling.py   a put of a dashboard login's rights, read again and repeated until they hold
    reconcile.py  account events, persisted broker jobs, the reconcile loop
    lifecycle.py  starting the back end and the recorder; after a broker restart
    health.py     the cached health report `/healthz` serves
    handlers.py   the HTTP handlers; routes.py their routes and OpenAPI entries
    sync.py       `pooldesk-backend broker sync`
    extension.py  `BrokerExtension`: wires the parts together
"""
