"""A feed admin uploads a department file with a bad row; a caseworker reads the report.

Real Chromium, real Celery worker: the upload is imported by the worker, the progress
bar gives way to the history, the bad row is quarantined with its line number, and the
caseworker's verification is answered from the new snapshot.
"""

import pytest
from playwright.sync_api import expect

from cases.casework import services as casework_services
from cases.intake import services as intake_services
from tests.browser.helpers import log_in
from tests.cases.conftest import identity
from tests.conftest import wait_for
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import Department, Feed, Snapshot
from verification.requests import services as verification_services
from verification.requests.models import VerificationRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_with_a_bad_row_then_the_report(
    page, people, make_family, celery_worker_process, tmp_path
):
    load_catalogue()
    # Only the banks answer in this test, so that the report is complete once they do.
    Department.objects.exclude(code="bank").update(active=False)
    Feed.objects.filter(department__code="bank").update(bad_rows=Feed.BadRows.QUARANTINE)
    family = make_family(income="300")
    number = family.applicant.person.identity_number
    upload = tmp_path / "银行存款.csv"
    upload.write_text(
        "身份证号,姓名,项目,数值,日期\n"
        f"{number},{family.applicant.person.name},deposit,85000,2026-10-31\n"
        f"{identity('642222', '19700101', 3)[:-1]}0,某人,deposit,100,2026-10-31\n",
        encoding="gbk",
    )

    log_in(page, "feedadmin")
    page.goto("/verification/feeds/bank/")
    page.set_input_files("#feed-upload input[type=file]", str(upload))
    page.click("#feed-upload button[type=submit]")
    snapshot = wait_for(
        lambda: Snapshot.objects.filter(
            feed__department__code="bank", status=Snapshot.Status.COMPLETE
        ).first()
    )
    assert (snapshot.rows_loaded, snapshot.rows_quarantined) == (1, 1)
    page.goto(f"/verification/snapshots/{snapshot.pk}/")
    expect(page.locator("main")).to_contain_text("3")  # the bad row's line number
    page.click("text=退出登录")

    cw = people.caseworker_a
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    verification = wait_for(
        lambda: (
            VerificationRequest.objects.filter(application_id=app_id)
            .exclude(status=VerificationRequest.Status.OPEN)
            .first()
        )
    )
    log_in(page, "caseworker_a")
    page.goto(f"/verification/requests/{verification.pk}/")
    expect(page.locator("#overall-verdict")).to_contain_text("明显差距")
    expect(page.locator("main")).to_contain_text("85000")
