# The binding: which Wi-Fi, which broker and login, which topic prefix and owner.
# Given by provisioning; validated here before anything is stored.

import binascii

KEYS = ("ssid", "password", "broker_url", "mqtt_user", "mqtt_password", "client_id",
        "topic_prefix", "username", "ca_cert")
_LEVEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
MAX_TOPIC_PREFIX = 256  # bytes, docs/provisioning.md section 7


class BindingError(ValueError):
    """A binding field that cannot be used; `field` names it (provisioning answers `invalid`
    with that field)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def _text(b, key, lo, hi, allow_none=False):
    v = b.get(key)
    if v is None and allow_none:
        return None
    if not isinstance(v, str):
        raise BindingError(key, key + " must be text")
    for ch in v:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise BindingError(key, key + " is not valid Unicode text")
    n = len(v.encode())
    if not lo <= n <= hi:
        raise BindingError(key, "%s must be %d to %d bytes" % (key, lo, hi))
    return v


def parse_broker_url(url):
    """'mqtt://host:port' or 'mqtts://host:port' -> (tls, host, port)."""
    if not isinstance(url, str):
        raise BindingError("broker_url", "broker_url must be text")
    if url.startswith("mqtt://"):
        tls, rest, port = False, url[7:], 1883
    elif url.startswith("mqtts://"):
        tls, rest, port = True, url[8:], 8883
    else:
        raise BindingError("broker_url", "broker_url must start with mqtt:// or mqtts://")
    rest = rest.split("/")[0]
    host = rest
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise BindingError("broker_url", "broker_url has an unclosed [ipv6] host")
        host, tail = rest[1:end], rest[end + 1:]
        if tail:
            if not tail.startswith(":"):
                raise BindingError("broker_url", "broker_url port must follow ':'")
            port = tail[1:]
    elif ":" in rest:
        host, port = rest.rsplit(":", 1)
    if isinstance(port, str):
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise BindingError("broker_url", "broker_url port must be 1-65535")
        port = int(port)
    if not host:
        raise BindingError("broker_url", "broker_url needs a host")
    return tls, host, port


def _topic_prefix(v):
    levels = v.split("/")
    for level in levels:
        if not level:
            raise BindingError("topic_prefix", "topic_prefix has an empty level")
        for ch in level:
            if ch not in _LEVEL_CHARS:
                raise BindingError("topic_prefix", "topic_prefix may use only a-z 0-9 _ - and /")
    return v


def pem_to_der(pem):
    """The first certificate of a PEM text as DER bytes (what both ssl modules accept)."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    i = pem.find(begin)
    j = pem.find(end, i + 1)
    if i < 0 or j < 0:
        raise BindingError("ca_cert", "ca_cert must be a PEM certificate")
    try:  # a2b_base64 skips line breaks and spaces itself: no list of lines, no joined copy
        return binascii.a2b_base64(pem[i + len(begin):j])
    except Exception:
        raise BindingError("ca_cert", "ca_cert is not valid base64")


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def check_pem(pem):
    """BindingError unless the first certificate of `pem` is well-formed base64. Checked a
    character at a time: no copy of the body and no DER in RAM (pem_to_der makes that when
    TLS needs it)."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    i = pem.find(begin)
    j = pem.find(end, i + 1)
    if i < 0 or j < 0:
        raise BindingError("ca_cert", "ca_cert must be a PEM certificate")
    start = i + len(begin)
    k = count = pad = 0
    for ch in pem:
        if start <= k < j and ch not in " \t\r\n":
            if ch == "=":
                pad += 1
            elif pad or ch not in _B64:
                raise BindingError("ca_cert", "ca_cert is not valid base64")
            count += 1
        k += 1
    if count == 0 or count % 4 or pad > 2:
        raise BindingError("ca_cert", "ca_cert is not valid base64")


def validate(b):
    if not isinstance(b, dict):
        raise BindingError("binding", "binding must be an object")
    out = {
        "ssid": _text(b, "ssid", 1, 32),
        "password": _text(b, "password", 0, 64),
        "broker_url": _text(b, "broker_url", 8, 256),
        "mqtt_user": _text(b, "mqtt_user", 0, 128),
        "mqtt_password": _text(b, "mqtt_password", 0, 256),
        "client_id": _text(b, "client_id", 1, 128),
        "topic_prefix": _topic_prefix(_text(b, "topic_prefix", 1, MAX_TOPIC_PREFIX)),
        "username": _text(b, "username", 0, 64),
        "ca_cert": _text(b, "ca_cert", 1, 8192, allow_none=True),
    }
    tls = parse_broker_url(out["broker_url"])[0]
    if out["ca_cert"] is not None:
        check_pem(out["ca_cert"])
    elif tls:
        raise BindingError(
            "ca_cert", "an mqtts:// broker needs ca_cert, the CA that signed its certificate"
        )
    return out
