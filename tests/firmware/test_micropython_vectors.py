"""The provisioning vectors under the real MicroPython interpreter (tests/firmware/mpy/)."""

from __future__ import annotations

import pytest

from tests.support import micropython

SCRIPT = micropython.SCRIPTS_DIR / "mpy_vectors.py"


@pytest.mark.parametrize("name", micropython.cases(SCRIPT))
def test_vector_under_micropython(name: str) -> None:
    micropython.run_case(SCRIPT, name)


def test_every_vector_file_is_checked_under_micropython() -> None:
    names = set(micropython.cases(SCRIPT))
    assert {
        "x25519_rfc7748",
        "hmac_rfc4231",
        "hkdf_rfc5869",
        "aes256_ctr_on_cryptolib_ecb",
        "key_schedule",
        "whole_session_transcript",
        "replay_reorder_tamper_refused",
        "wrong_claim_code_answered_auth_failed",
        "replayed_record_is_answered",
    } <= names
