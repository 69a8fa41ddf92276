"""Resident memory of a fresh web process once Django is set up (the WSGI app and the URLconf
loaded, as a web server worker holds them before its first request), and which heavy libraries it
imported (none: they load inside the functions that need them). Target: under 120 MB."""

import json
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).resolve().parents[1] / "web_process_probe.py"
RUNS = 5

if __name__ == "__main__":
    reports = [
        json.loads(
            subprocess.run(
                [sys.executable, str(PROBE)], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(RUNS)
    ]
    rss = sorted(r["rss_mb"] for r in reports)
    print(
        f"web process after django.setup() + URLconf: RSS median {rss[RUNS // 2]:.0f} MB "
        f"(min {rss[0]:.0f}, max {rss[-1]:.0f}) over {RUNS} fresh processes; "
        f"heavy libraries loaded: {reports[0]['heavy_loaded'] or 'none'}"
    )
