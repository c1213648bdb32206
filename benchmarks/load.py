"""The load test of issue 16 (item 2): the portal started the README's way against the
scale data set, USERS simulated people working for a set time, and the figures per page.

Not a test. Load the scale set into a database of its own first (docs/performance.md),
then, from the project folder:

    DATABASE_URL=postgres://…/aid_scale REDIS_URL=redis://…/5 \\
        .venv/bin/python benchmarks/load.py --users 50 --run-time 300

It starts ``python -m aid_portal.launcher start`` (what ``bin/start`` runs: migrations,
static files, the demo county beside the scale set, gunicorn, a Celery worker, beat and
the department simulator) on PORT, waits for /healthz/, writes the plan the locust file
reads (benchmarks/locustfile.py: each township's caseworker, cases, submitted cases and
identity numbers to search for; each county's auditor), runs locust headless, prints
the 50th, 95th and 99th percentile and the failures per page with the load average
before and after, and stops the portal.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

import django  # noqa: E402

django.setup()

from aid_portal.demo.scale import PROVINCE, SCALE_PASSWORD  # noqa: E402
from aid_portal.models import Region, Role, RoleAssignment  # noqa: E402
from cases.models import Application, Member  # noqa: E402


def loadavg() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def plan(sample: int, seed: int) -> dict:
    """Who works where, and on what: a sample of each township's cases and people."""
    rng = random.Random(seed)
    townships = []
    grants = RoleAssignment.objects.filter(
        role=Role.TOWNSHIP_CASEWORKER, region__code__startswith=PROVINCE
    ).select_related("user", "region")
    for grant in grants:
        prefix = grant.region.prefix
        apps = Application.objects.filter(village__code__startswith=prefix)
        cases = list(apps.values_list("id", flat=True)[: sample * 5])
        members = list(
            Member.objects.filter(household__village__code__startswith=prefix)
            .select_related("person")
            .order_by("id")[: sample * 5]
        )
        chosen = rng.sample(members, min(sample, len(members)))
        townships.append(
            {
                "caseworker": grant.user.username,
                "cases": rng.sample(cases, min(sample, len(cases))),
                "submitted": list(apps.filter(state="submitted").values_list("id", flat=True)),
                "numbers": [m.person.identity_number for m in chosen],
                "names": [m.person.name for m in chosen],
            }
        )
    counties = []
    for grant in RoleAssignment.objects.filter(
        role=Role.COUNTY_AUDITOR, region__code__startswith=PROVINCE
    ).select_related("user", "region"):
        cases = list(
            Application.objects.filter(village__code__startswith=grant.region.prefix).values_list(
                "id", flat=True
            )[: sample * 5]
        )
        counties.append(
            {"auditor": grant.user.username, "cases": rng.sample(cases, min(sample, len(cases)))}
        )
    return {"password": SCALE_PASSWORD, "townships": townships, "counties": counties}


def wait_for(url: str, seconds: float, portal: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if portal.poll() is not None:
            raise SystemExit(f"the portal stopped (exit code {portal.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"the portal did not answer {url} within {seconds:.0f} s")


def report(stats_csv: Path) -> int:
    with stats_csv.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    print(f"{'page':<38} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
    errors = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all pages"
        print(
            f"{name:<38} {row['Request Count']:>8} {row['50%']:>7} {row['95%']:>7} "
            f"{row['99%']:>7} {row['Failure Count']:>6}"
        )
        if row["Name"] == "Aggregated":
            errors = int(row["Failure Count"])
    print(f"errors: {errors}")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--run-time", type=int, default=300, help="seconds")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORTAL_PORT", 8000)))
    parser.add_argument("--sample", type=int, default=30, help="cases and people per township")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()

    scale = Region.objects.filter(code__startswith=PROVINCE)
    if not scale.exists():
        raise SystemExit("no scale data set in this database: run manage.py load_scale first")
    households = Application.objects.filter(village__code__startswith=PROVINCE).count()
    print(f"scale set: {households:,} applications; {loadavg()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="aid-load-"))
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(plan(args.sample, args.seed), ensure_ascii=False))

    env = dict(os.environ, PORTAL_PORT=str(args.port))
    # The department simulator on the next port, so that two portals on one machine
    # do not fight over the default one.
    env.setdefault("SIMULATOR_URL", f"http://127.0.0.1:{args.port + 1}")
    portal = subprocess.Popen(
        [sys.executable, "-m", "aid_portal.launcher", "start"],
        cwd=BASE_DIR,
        env=env,
        stdout=(work / "portal.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    host = f"http://127.0.0.1:{args.port}"
    try:
        started = time.perf_counter()
        wait_for(f"{host}/healthz/", 900, portal)
        print(f"portal up in {time.perf_counter() - started:.0f} s (log: {work / 'portal.log'})")
        print(f"locust: {args.users} users, {args.run_time} s; before: {loadavg()}", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(BASE_DIR / "benchmarks" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.run_time}s",
                "--host",
                host,
                "--csv",
                str(work / "load"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=dict(os.environ, SCALE_LOAD_PLAN=str(plan_file)),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=(work / "locust.log").open("w"),
        )
        print(f"after: {loadavg()}")
        return 1 if report(work / "load_stats.csv") else 0
    finally:
        portal.send_signal(signal.SIGTERM)
        try:
            portal.wait(timeout=60)
        except subprocess.TimeoutExpired:
            portal.kill()


if __name__ == "__main__":
    sys.exit(main())
