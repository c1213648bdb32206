"""Forms of the feed pages: the column mapping with the bad-rows choice, and the upload."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from verification.feeds.models import Feed


class FeedSettingsForm(forms.Form):
    identity_number = forms.CharField(label=_("Column of the identity number"), max_length=100)
    name = forms.CharField(label=_("Column of the name"), max_length=100, required=False)
    item = forms.CharField(label=_("Column of the item code"), max_length=100)
    value = forms.CharField(label=_("Column of the value"), max_length=100, required=False)
    date = forms.CharField(label=_("Column of the date"), max_length=100, required=False)
    text = forms.CharField(
        label=_("Column of the details"),
        max_length=100,
        required=False,
        help_text=_("Optional, such as a plate number."),
    )
    bad_rows = forms.ChoiceField(
        label=_("A file with bad rows"), choices=Feed.BadRows.choices, widget=forms.RadioSelect
    )

    MAPPED = ("identity_number", "name", "item", "value", "date", "text")

    @classmethod
    def for_feed(cls, feed: Feed) -> FeedSettingsForm:
        initial = {key: feed.column_mapping.get(key, "") for key in cls.MAPPED}
        return cls(initial={**initial, "bad_rows": feed.bad_rows})

    def column_mapping(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in self.MAPPED}


class SnapshotUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Department file"),
        help_text=_("CSV (UTF-8 or GBK) or XLSX, one row per person-record, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
