import time

from django.core.management.base import BaseCommand, CommandError

from aid_portal.demo.scale import SCALE_PASSWORD, Layout, ScaleRefused, load_scale, scale_users


class Command(BaseCommand):
    help = (
        "Load the scale data set (issue 16) into an empty database of its own: N households "
        "in a province of counties, townships and villages, with applications in every "
        "state, declarations, verification outcomes, reviews and batch findings "
        "(docs/performance.md)."
    )

    def add_arguments(self, parser):
        layout = Layout()
        parser.add_argument("--households", type=int, default=layout.households)
        parser.add_argument("--counties", type=int, default=layout.counties)
        parser.add_argument("--townships", type=int, default=layout.townships, help="per county")
        parser.add_argument("--villages", type=int, default=layout.villages, help="per township")
        parser.add_argument("--seed", type=int, default=layout.seed)
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even though the database holds other data",
        )

    def handle(self, *args, **options):
        layout = Layout(
            households=options["households"],
            counties=options["counties"],
            townships=options["townships"],
            villages=options["villages"],
            seed=options["seed"],
        )
        if min(layout.households, layout.counties, layout.townships, layout.villages) < 1:
            raise CommandError("every count must be at least 1")
        started = time.perf_counter()
        try:
            loaded = load_scale(layout, force=options["force"], progress=self.stdout.write)
        except ScaleRefused as refused:
            raise CommandError(str(refused)) from refused
        users = scale_users(layout)
        self.stdout.write(
            f"scale set loaded in {time.perf_counter() - started:.1f} s: "
            f"{layout.households:,} households, applications by state "
            f"{loaded.counts['applications by state']}"
        )
        self.stdout.write(
            f"logins (password {SCALE_PASSWORD}): caseworker {users['caseworker'][0]}, "
            f"approver {users['approver'][0]}, county auditor {users['auditor'][0]}, "
            f"verification officer {users['verifier'][0]}"
        )
