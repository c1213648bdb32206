from django.core.management.base import BaseCommand, CommandError

from aid_portal import audit_chain


class Command(BaseCommand):
    help = (
        "Seal the audit events not yet sealed, then walk the audit log's hash chain and "
        "report the first broken link (exit status 1 when there is one)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-seal", action="store_true", help="only check what is sealed already"
        )

    def handle(self, *args, **options):
        if not options["no_seal"]:
            sealed = audit_chain.audit_seal()
            self.stdout.write(f"sealed {sealed} new events")
        check = audit_chain.audit_verify()
        self.stdout.write(
            f"checked {check.events_checked} events, sealed up to {check.sealed_up_to}, "
            f"head digest {check.head_digest or '-'}"
        )
        if not check.ok:
            raise CommandError(f"broken at event {check.broken_at}: {check.problem}")
        self.stdout.write("the audit chain is whole")
