from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aid_portal import services


class Command(BaseCommand):
    help = "Load region nodes from a CSV file (code,name,parent_code), all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("csv_file", type=Path)
        parser.add_argument("--encoding", default="utf-8")

    def handle(self, *args, csv_file: Path, encoding: str, **options):
        try:
            text = csv_file.read_text(encoding=encoding)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{csv_file}: {exc}") from None
        try:
            result = services.region_tree_load(csv_text=text, actor=None)
        except services.RegionImportError as exc:
            raise CommandError("\n".join([exc.message, *exc.errors])) from None
        self.stdout.write(f"regions: {result.created} created, {result.updated} renamed")
