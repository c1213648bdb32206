"""Serializers of the payment API: input ones parse what one service takes; output ones
show rosters and lines with accounts masked."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import AssistanceType
from cases.payments.models import FundAllocation, Roster, RosterLine

# A month as the schema documents it: YYYY-MM, a real year and month.
MONTH_SCHEMA = {
    "type": "string",
    "pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$",
    "example": "2026-11",
}


@extend_schema_field(MONTH_SCHEMA)
class MonthField(serializers.DateField):
    """A month as YYYY-MM (or any day of it); its first day."""

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%Y-%m", "%Y-%m-%d"], format="%Y-%m", **kwargs)

    def to_internal_value(self, value):
        return super().to_internal_value(value).replace(day=1)


class RosterPrepareSerializer(serializers.Serializer):
    township = serializers.IntegerField(help_text="The township's region id.")
    month = MonthField()


class SupplementaryPrepareSerializer(RosterPrepareSerializer):
    reissue_lines = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list
    )


class RosterStepSerializer(serializers.Serializer):
    pass


class RosterSendBackSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RosterLineHoldSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField(max_length=200)


class RosterReturnApplySerializer(serializers.Serializer):
    bank = serializers.SlugField(help_text="The bank's code, e.g. abc.")
    file = serializers.FileField(max_length=200)


class PaymentAccountSetSerializer(serializers.Serializer):
    bank = serializers.SlugField(help_text="The bank's code, e.g. abc.")
    number = serializers.CharField(max_length=40)
    holder_name = serializers.CharField(max_length=50)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class FundAllocationInputSerializer(serializers.Serializer):
    county = serializers.IntegerField(help_text="The county's region id.")
    programme = serializers.ChoiceField(choices=AssistanceType.choices)
    month = MonthField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class RosterSerializer(serializers.ModelSerializer):
    township_name = serializers.CharField(source="township.name", read_only=True)
    month = serializers.DateField(format="%Y-%m")

    class Meta:
        model = Roster
        fields = [
            "id",
            "township",
            "township_name",
            "month",
            "kind",
            "supplements",
            "state",
            "line_count",
            "total",
            "problem_count",
            "content_hash",
            "due_on",
            "prepared_at",
        ]


class RosterLineSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    account = serializers.SerializerMethodField()
    bank = serializers.CharField(source="account.bank.code", default=None, read_only=True)

    class Meta:
        model = RosterLine
        fields = [
            "id",
            "reference",
            "application",
            "household",
            "village",
            "programme",
            "kind",
            "amount",
            "net_amount",
            "months_from",
            "months_to",
            "reason",
            "award",
            "adjustment",
            "refers_to",
            "deducted_from",
            "payee_name",
            "bank",
            "account",
            "problems",
            "outcome",
            "failure",
            "failure_note",
        ]

    def get_account(self, line: RosterLine) -> str | None:
        """Masked: the last four digits only."""
        return line.account.masked if line.account_id else None


class RosterDetailSerializer(RosterSerializer):
    lines = RosterLineSerializer(many=True, read_only=True)

    class Meta(RosterSerializer.Meta):
        fields = [*RosterSerializer.Meta.fields, "lines"]


class FundAllocationSerializer(serializers.ModelSerializer):
    month = serializers.DateField(format="%Y-%m")

    class Meta:
        model = FundAllocation
        fields = ["id", "county", "programme", "month", "amount", "note", "entered_at"]


class FundsLedgerRowSerializer(serializers.Serializer):
    programme = serializers.CharField()
    allocated = serializers.DecimalField(max_digits=14, decimal_places=2)
    committed = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    over = serializers.BooleanField()
