"""Water temperature curves for the simulator's command line (`--water SPEC`)."""

from __future__ import annotations

import itertools

from pooldesk_firmware.sim.device import SimClock, WaterModel

HELP = (
    "daily[:BASE[:SWING]] (default daily:26:1.5), constant:C, ramp:FROM:TO:SECONDS, "
    "points:T=C,T=C,... (seconds since start -> degrees C, linear in between), absent"
)


def piecewise(points: list[tuple[float, float]], start: float):
    points = sorted(points)

    def fn(clock: SimClock) -> float:
        t = clock.elapsed() - start
        if t <= points[0][0]:
            return points[0][1]
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            if t <= t1:
                return c0 + (c1 - c0) * (t - t0) / (t1 - t0) if t1 > t0 else c1
        return points[-1][1]

    return fn


def apply_spec(model: WaterModel, spec: str, clock: SimClock) -> None:
    """Configure `model` from a spec string; ValueError with the accepted forms."""
    kind, _, rest = spec.partition(":")
    args = rest.split(":") if rest else []
    try:
        if kind == "daily":
            model.base_c = float(args[0]) if args else 26.0
            model.swing_c = float(args[1]) if len(args) > 1 else 1.5
            model.daily()
        elif kind == "constant" and len(args) == 1:
            model.set(float(args[0]))
        elif kind == "ramp" and len(args) == 3:
            model.ramp(float(args[0]), float(args[1]), float(args[2]), clock)
        elif kind == "points" and rest:
            pts = []
            for item in rest.split(","):
                t, _, c = item.partition("=")
                pts.append((float(t), float(c)))
            model.script(piecewise(pts, clock.elapsed()))
        elif kind == "absent" and not args:
            model.present = False
        else:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"bad --water {spec!r}; use {HELP}") from None
