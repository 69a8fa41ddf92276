"""What a fresh web process holds once Django is set up: run as a script, prints JSON.

It does what a web server worker does before its first request (the WSGI application, then the
URLconf that request resolves against) and reports its resident memory and which heavy libraries
got imported. Used by tests/test_house.py and tests/benchmarks/bench_web_memory.py.
"""

import json
import os
import sys
from pathlib import Path

HEAVY_LIBRARIES = ("pandas", "pyarrow", "scipy", "shapely", "openpyxl", "sklearn", "krippendorff")


def probe() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeling.site.settings")
    from django.core.wsgi import get_wsgi_application
    from django.urls import get_resolver

    get_wsgi_application()
    get_resolver().check()  # loads every URL module, as the first request would
    with open("/proc/self/status") as status:
        memory = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {
        "rss_mb": int(memory["VmRSS"].split()[0]) / 1024,
        "peak_mb": int(memory["VmHWM"].split()[0]) / 1024,
        "heavy_loaded": sorted(name for name in HEAVY_LIBRARIES if name in sys.modules),
    }


if __name__ == "__main__":
    print(json.dumps(probe()))
