"""Forms of the public roster: the public's report form and the staff's forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReportForm(forms.Form):
    """An objection or report (举报) from the public page: contact and text required.

    ``about`` names the entry the report concerns, as the page shows it (name,
    programme, amount); its values are the entries' places on the page (``row-3``), so
    the page carries no id of a household, a case or an entry."""

    about = forms.ChoiceField(
        label=_("Which household on the roster is it about (optional)"), required=False
    )
    name = forms.CharField(label=_("Your name (optional)"), max_length=50, required=False)
    contact = forms.CharField(
        label=_("Phone or address where the office can reach you"), max_length=100
    )
    text = forms.CharField(
        label=_("What you object to or report"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, entries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.entries = {f"row-{n}": entry for n, entry in enumerate(entries, start=1)}
        self.fields["about"].choices = [("", _("Not about one household"))] + [
            (key, f"{e.shown_name} · {e.get_programme_display()} · {e.amount}")
            for key, e in self.entries.items()
        ]

    def entry(self):
        """The entry chosen, or None."""
        return self.entries.get(self.cleaned_data.get("about") or "")


class PublishForm(forms.Form):
    village = forms.IntegerField(widget=forms.HiddenInput)
    month = forms.DateField(widget=forms.HiddenInput, input_formats=["%Y-%m-%d", "%Y-%m"])
    contact = forms.CharField(
        label=_("The township office's contact for objections"), max_length=100, required=False
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why it is withdrawn"), max_length=200)


class HandleForm(forms.Form):
    note = forms.CharField(
        label=_("How the report was handled"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
