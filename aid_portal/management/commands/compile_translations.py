from django.core.management.base import BaseCommand

from aid_portal.launcher import compile_messages


class Command(BaseCommand):
    help = "Compile the .po translation catalogues with Babel (no GNU gettext needed)."

    def handle(self, *args, **options):
        compile_messages()
        self.stdout.write("translations compiled")
