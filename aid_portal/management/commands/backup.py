from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aid_portal.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump -Fc), the private files folder and a manifest "
        "(row counts, SHA-256 of every file, the audit chain's head) into one tar archive. "
        "Run it as the schema's owner. No secret key goes into the archive."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "target", help="a folder (the archive is named by the time) or the archive's path"
        )

    def handle(self, *args, target: str, **options):
        if target.endswith("/") and not Path(target).is_dir():
            raise CommandError(f"the folder {target} does not exist")
        try:
            result = backup_create(Path(target))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = result.manifest
        chain = manifest["audit_chain"]
        self.stdout.write(
            f"{result.path}: {len(manifest['row_counts'])} tables, "
            f"{sum(manifest['row_counts'].values())} rows, {len(manifest['files'])} files, "
            f"audit chain sealed up to {chain['sealed_up_to']}, "
            f"head digest {chain['head_digest'] or '-'}"
        )
        if not chain["whole_before_backup"]:
            self.stderr.write(f"warning: the audit chain was broken: {chain['problem']}")
