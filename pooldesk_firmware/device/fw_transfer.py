# Hand-over (docs/sharing.md, "MQTT: a new binding for a bound device"): the backend gives a
# bound unit a new login and topic prefix over its current, authenticated MQTT connection.
#
# P/binding/set (retained, only this unit's login may read it) -> checked like a Bluetooth
# binding -> the link connects with the new login -> once the broker accepted it, the new
# binding is stored (one atomic write) and `ok` goes out on the NEW prefix, naming the login it
# took (`mqtt_user`: the backend may have sent more than one under this transfer_id when a
# delivery's acknowledgement came late, and promotes the one named). A login the broker
# refuses (or that cannot reach it): back to the stored login, `failed` on the OLD prefix. A
# transfer_id already applied is answered `ok` again; one that failed since boot `failed` again
# (the retained message comes back on every connection until the backend clears it).

import json

import fw_binding
import fw_log
import fw_time

MAX_ID = 64


class Invalid(ValueError):
    pass


def _text(body, key, hi):
    v = body.get(key)
    if not isinstance(v, str) or len(v) > hi:
        raise Invalid(key + " must be text of at most %d characters" % hi)
    return v


def new_binding(old, body):
    """The stored binding `old` with the login and prefix of a binding/set body. Invalid or
    CheckError/BindingError (from the Bluetooth checks) when it cannot be used."""
    if body.get("v") != 1:
        raise Invalid("unknown binding/set version")
    prefix = _text(body, "topic_prefix", 256)
    levels = prefix.split("/")
    mine = old["topic_prefix"].split("/")
    if len(levels) != 4 or levels[0] != "users" or levels[2] != "devices" or levels[3] != mine[-1]:
        raise Invalid("topic_prefix must be users/<name>/devices/" + mine[-1])
    b = dict(old)
    b["mqtt_user"] = _text(body, "mqtt_username", 128)
    b["mqtt_password"] = _text(body, "mqtt_password", 256)
    b["client_id"] = _text(body, "client_id", 128)
    b["topic_prefix"] = prefix
    b["username"] = levels[1]
    import prov_check  # the Bluetooth binding's field checks, then the link's own
    prov_check.check_binding(b)
    return fw_binding.validate(b)


class Mover:
    def __init__(self, ctl):
        self.ctl = ctl
        self.trying = None  # (transfer_id, binding) the link is connecting with
        self._failed = {}  # transfer_id -> reason, since boot
        self._answers = []  # (transfer_id, reason or None) to send once online

    # ---- MQTT glue (called by the controller) ----

    def topics(self, prefix):
        return [prefix + "/binding/set"]

    def owns(self, topic, prefix):
        return topic == prefix + "/binding/set"

    def binding(self):
        """The binding on trial for a hand-over, else None."""
        return self.trying[1] if self.trying is not None else None

    def on_message(self, payload):
        if not payload:
            return  # withdrawn by the backend
        try:
            body = json.loads(payload)
            tid = body["transfer_id"]
        except Exception:
            fw_log.log("binding/set: malformed, ignored")
            return
        if not isinstance(tid, str) or not 0 < len(tid) <= MAX_ID:
            fw_log.log("binding/set: no usable transfer_id, ignored")
            return
        if tid == self.ctl.config.get("transfer_id"):
            self._answer(tid, None)
            return
        if tid in self._failed:
            self._answer(tid, self._failed[tid])
            return
        if self.trying is not None:
            return  # one hand-over at a time
        old = self.ctl.stored_binding()
        try:
            b = new_binding(old, body)
        except Exception as e:  # Invalid, CheckError, BindingError, a broken stored binding
            fw_log.log("binding/set refused:", repr(e))
            self._failed[tid] = "invalid"
            self._answer(tid, "invalid")
            return
        fw_log.log("binding/set: trying the new login for", b["topic_prefix"])
        self.trying = (tid, b)
        self.ctl.link.restart()

    def result(self, b, reason):
        """The link tried binding `b`: reason None = the broker accepted its login, else
        `broker_auth` (refused) or another failure. Only the hand-over's binding matters."""
        if self.trying is None or b is not self.trying[1]:
            return
        tid = self.trying[0]
        self.trying = None
        if reason is None:
            ctl = self.ctl
            ctl.config["binding"] = b
            ctl.config["transfer_id"] = tid
            ctl.config["transfer_prefix"] = b["topic_prefix"]
            ctl.config["transfer_user"] = b["mqtt_user"]
            ctl.trial = None
            ctl._save()
            ctl._proven = b
            fw_log.log("hand-over applied:", b["topic_prefix"])
            return  # `ok` goes out from on_online, on the new prefix
        why = "refused" if reason == "broker_auth" else "unreachable"
        fw_log.log("hand-over failed (%s): back to the stored login" % why)
        self._failed[tid] = why
        self._answers.append((tid, why))
        self.ctl.link.restart()

    def on_online(self, prefix):
        """Answers owed: a failure (on the old prefix), and the last applied hand-over's `ok`
        on every connection with its binding (the backend ignores it unless it still waits)."""
        answers, self._answers = self._answers, []
        for tid, reason in answers:
            self._answer(tid, reason)
        tid = self.ctl.config.get("transfer_id")
        if tid is not None and self.ctl.config.get("transfer_prefix") == prefix:
            self._answer(tid, None)

    def _answer(self, tid, reason):
        body = {"v": 1, "transfer_id": tid, "result": "failed" if reason else "ok",
                "ts": fw_time.iso(self.ctl.now())}
        if reason:
            body["reason"] = reason
        else:
            user = self.ctl.config.get("transfer_user")  # absent: applied by older firmware
            if user is not None:
                body["mqtt_user"] = user
        self.ctl._enqueue("binding/state", body, False)
