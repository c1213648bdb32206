from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aid_portal.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore an archive of manage.py backup into this database and the private files "
        "folder, then check the rows, the files and the audit chain against its manifest "
        "(exit status 1 on any difference). Run it as the schema's owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the .tar written by manage.py backup")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore over a database that holds data (it is replaced)",
        )
        parser.add_argument(
            "--app-role",
            default="aid_app",
            help="the application's role to grant afterwards, as grant_app_role (aid_app)",
        )
        parser.add_argument(
            "--no-grant", action="store_true", help="grant the application's role nothing"
        )

    def handle(self, *args, archive: str, force: bool, app_role: str, no_grant: bool, **options):
        try:
            report = backup_restore(
                Path(archive), force=force, app_role=None if no_grant else app_role
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines:
            self.stdout.write(line)
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"mismatch: {problem}")
            raise CommandError(
                f"the restore does not match the backup: {len(report.problems)} differences"
            )
        self.stdout.write("the restore matches the backup")
