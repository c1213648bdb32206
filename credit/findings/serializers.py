"""Input and output serializers of the credit API: small, one per operation."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credit.findings.models import (
    Behaviour,
    Finding,
    FindingEvent,
    Interview,
    Objection,
    OrderRecovery,
    OrderRefund,
    OutboxMessage,
    Repair,
    RepaymentOrder,
    Sanction,
)

# --- input ---------------------------------------------------------------------------------


class CreditFindingRecordSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    person = serializers.IntegerField(required=False, allow_null=True, default=None)
    behaviour = serializers.CharField(max_length=40, help_text="A catalogue code.")
    facts = serializers.CharField(allow_blank=True)
    source_kind = serializers.ChoiceField(choices=Finding.SourceKind.choices)
    source_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    application = serializers.IntegerField(required=False, allow_null=True, default=None)
    found_on = serializers.DateField(required=False, allow_null=True, default=None)
    evidence = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="Ids of documents in the household's file.",
    )


class CreditNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CreditReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class CreditConfirmSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    repayment_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )
    repayment_deadline = serializers.DateField(required=False, allow_null=True, default=None)


class CreditInterviewSerializer(serializers.Serializer):
    interview = serializers.IntegerField()
    notes = serializers.CharField(allow_blank=True)
    held_on = serializers.DateField(required=False, allow_null=True, default=None)


class CreditRepaymentSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid_on = serializers.DateField(required=False, allow_null=True, default=None)


class CreditRecoverSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Yuan to deduct; default the outstanding sum, at most the monthly payment.",
    )


class CreditObjectionSerializer(serializers.Serializer):
    statement = serializers.CharField(allow_blank=True)
    lodged_on = serializers.DateField(required=False, allow_null=True, default=None)
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class CreditObjectionReviewSerializer(serializers.Serializer):
    objection = serializers.IntegerField()
    upheld = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)


class CreditRepairApplySerializer(serializers.Serializer):
    correction = serializers.CharField(allow_blank=True)
    applied_on = serializers.DateField(required=False, allow_null=True, default=None)


class CreditRepairDecideSerializer(serializers.Serializer):
    repair = serializers.IntegerField()
    grant = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)


# --- output --------------------------------------------------------------------------------


# Levels, states and kinds are plain strings here (the values are listed in docs/credit.md):
# several models share field names with different choices, which would make the schema's
# enum names collide.


class CreditBehaviourSerializer(serializers.ModelSerializer):
    level = serializers.CharField(help_text="light, moderate, severe, general or serious")
    source = serializers.CharField(help_text="XJ, HS or local")
    portal_level = serializers.CharField()

    class Meta:
        model = Behaviour
        fields = ["code", "name", "level", "portal_level", "source", "active"]


class CreditFindingListSerializer(serializers.ModelSerializer):
    behaviour = serializers.CharField(source="behaviour.code")
    behaviour_name = serializers.CharField(source="behaviour.name")
    village = serializers.CharField(source="village.code")
    person_name = serializers.CharField(source="person.name", default=None)
    state_display = serializers.CharField(source="get_state_display")
    level = serializers.CharField(help_text="light, moderate or severe (after escalation)")
    level_recorded = serializers.CharField()
    state = serializers.CharField(
        help_text="proposed, county_pending, standing, objected, dismissed, withdrawn, repaired"
    )

    class Meta:
        model = Finding
        fields = [
            "id",
            "household",
            "village",
            "person",
            "person_name",
            "behaviour",
            "behaviour_name",
            "level_recorded",
            "level",
            "state",
            "state_display",
            "found_on",
            "effective_on",
            "objection_deadline",
            "ended_on",
            "facts",
        ]


class CreditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = FindingEvent
        fields = ["on", "at", "actor", "action", "from_state", "to_state", "reason", "data"]


class CreditSanctionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()

    class Meta:
        model = Sanction
        fields = [
            "id",
            "kind",
            "person",
            "application",
            "starts_on",
            "ends_on",
            "ended_on",
            "end_reason",
        ]


class CreditInterviewOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interview
        fields = ["id", "scheduled_for", "held_on", "notes"]


class CreditObjectionOutSerializer(serializers.ModelSerializer):
    state = serializers.CharField(help_text="pending, upheld or rejected")

    class Meta:
        model = Objection
        fields = [
            "id",
            "lodged_on",
            "statement",
            "review_due_on",
            "state",
            "reviewed_on",
            "review_note",
        ]


class CreditRepairOutSerializer(serializers.ModelSerializer):
    state = serializers.CharField(help_text="pending, granted or refused")

    class Meta:
        model = Repair
        fields = ["id", "applied_on", "correction", "state", "decided_on", "decision_note"]


class CreditOrderRecoverySerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderRecovery
        fields = ["id", "amount", "adjustment", "credited_on"]


class CreditOrderRefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderRefund
        fields = ["id", "amount", "adjustment", "made_on"]


class CreditRepaymentOrderSerializer(serializers.ModelSerializer):
    state = serializers.CharField(help_text="open, paid or cancelled")
    recoveries = CreditOrderRecoverySerializer(many=True)
    refunds = CreditOrderRefundSerializer(
        many=True, help_text="back pay of what the recoveries took beyond what was owed"
    )

    class Meta:
        model = RepaymentOrder
        fields = [
            "id",
            "amount",
            "deadline",
            "paid_amount",
            "state",
            "closed_on",
            "recoveries",
            "refunds",
        ]


class CreditOutboxSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="record, withdrawal or repair")
    state = serializers.CharField(help_text="pending, delivered or cancelled")

    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "key",
            "finding",
            "kind",
            "state",
            "attempts",
            "last_error",
            "created_at",
            "delivered_at",
            "exported_at",
        ]


class CreditFindingDetailSerializer(CreditFindingListSerializer):
    events = CreditEventSerializer(many=True)
    sanctions = CreditSanctionSerializer(many=True)
    interviews = CreditInterviewOutSerializer(many=True)
    objections = CreditObjectionOutSerializer(many=True)
    repairs = CreditRepairOutSerializer(many=True)
    repayment_order = serializers.SerializerMethodField()
    escalated_from = serializers.IntegerField(source="escalated_from_id", allow_null=True)

    class Meta(CreditFindingListSerializer.Meta):
        fields = [
            *CreditFindingListSerializer.Meta.fields,
            "escalated_from",
            "application",
            "source_kind",
            "source_id",
            "events",
            "sanctions",
            "interviews",
            "objections",
            "repairs",
            "repayment_order",
        ]

    @extend_schema_field(CreditRepaymentOrderSerializer(allow_null=True))
    def get_repayment_order(self, finding):
        try:
            order = finding.repayment_order
        except RepaymentOrder.DoesNotExist:
            return None
        return CreditRepaymentOrderSerializer(order).data


class CreditBlockCheckSerializer(serializers.Serializer):
    blocked = serializers.BooleanField()
    message = serializers.CharField(allow_null=True)
