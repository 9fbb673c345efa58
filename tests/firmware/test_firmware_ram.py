"""The firmware fits its RAM budget under the real MicroPython interpreter (bench/firmware_ram.py).

Runs the bench once (the WebAssembly port of MicroPython 1.27 under node, installed by
`make setup`): the firmware compiled with mpy-cross boots, advertises, takes a binding sent as
an 8 KB sealed message over a real provisioning session, and goes online; every phase must
stay within 64 KB of heap beyond the code, counted as an upper bound; so must the same unit
powered on again, bound, until it is back online.
"""

from __future__ import annotations

import pytest

from bench import firmware_ram


@pytest.fixture(scope="module")
def figures() -> firmware_ram.Figures:
    return firmware_ram.measure()


def test_every_phase_fits_in_64_kb_beyond_the_code(figures: firmware_ram.Figures):
    report = firmware_ram.report(figures)
    assert set(figures.peak) == {*firmware_ram.PHASES, "reboot"}
    for phase in figures.peak:
        assert figures.peak[phase] <= firmware_ram.NON_CODE_BUDGET, report
        assert 0 < figures.live[phase] <= figures.peak[phase], report
    assert figures.fits_budget


def test_the_binding_really_carried_an_8_kb_sealed_message(figures: firmware_ram.Figures):
    """The peak is only meaningful if the big message went through: it is stored, so the
    live heap after the binding holds the 6000-character CA certificate."""
    assert figures.live["binding"] - figures.live["advertising"] >= 6000


def test_code_heap_is_measured_and_reported_against_its_budget(figures: firmware_ram.Figures):
    assert 20 * 1024 < figures.code < 200 * 1024
    text = firmware_ram.report(figures)
    assert "code, firmware as .mpy" in text
    assert "budget" in text


def test_bluetooth_is_off_while_the_bound_unit_is_online(figures: firmware_ram.Figures):
    """The online figure is measured the way the board runs: the radio off, TLS's memory free."""
    assert figures.bluetooth_off_online
