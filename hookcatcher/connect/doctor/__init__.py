"""`hookcatcher doctor`: why an app receives nothing (or not everything) from its gateway.

Reading a gateway's webhook configuration is one thing; knowing whether it will work is
another. The doctor reads it through the gateway's own API, looks at what is there from this
machine (a test POST to the webhook URL, the per-event paths the gateway would post to, the
instance's connection), and says each problem in one line with the exact fix, in the
gateway's own words. Looking (`observe`, I/O) and judging (`diagnose`, pure) are apart, so
every finding can be tested from a hand-built configuration.

The package: `observe` (looking), `diagnose` (judging), `words` (each gateway's phrases, as
data), `events` (what the gateway would post where) and `report` (`run_doctor`, the output).

Per-event paths are probed on the URL without a trailing slash: the trailing slash is its
own finding, and the paths say what the app serves once it is fixed. An app that answers the
same on any path (a catch-all) tells nothing by its paths, so a path that cannot exist is
probed first and, when it is not a 404, no finding rests on the paths.
"""

from __future__ import annotations

from hookcatcher.connect.doctor.diagnose import Finding, diagnose
from hookcatcher.connect.doctor.events import control_url, event_paths
from hookcatcher.connect.doctor.observe import (
    PROBE_BODY,
    PROBE_HEADER,
    Observations,
    Reach,
    observe,
    probe,
    probe_paths,
)
from hookcatcher.connect.doctor.report import run_doctor

__all__ = [
    "Finding",
    "Reach",
    "Observations",
    "diagnose",
    "probe",
    "probe_paths",
    "event_paths",
    "control_url",
    "observe",
    "run_doctor",
    "PROBE_BODY",
    "PROBE_HEADER",
]
