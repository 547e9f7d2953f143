"""The investigator and QA approver flow in a real browser (Debian Chromium, headless).

One browser for the module; the investigator and the approver each have their own context
(cookie jar). Every page visited passes axe-core's serious/critical WCAG checks; screenshots
go to var/test-artifacts/ui/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.ui.browser import assert_accessible, chromium
from tests.ui.conftest import PASSWORD, LiveServer
from tests.ui.fakes import SOP_QUOTE

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def sign_in(context: BrowserContext, server: LiveServer, username: str, path: str) -> Page:
    page = context.new_page()
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + path)
    return page


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_investigation_review_and_signature_flow(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    server = live_server
    users = server.users
    investigation_id = server.open_event("MES-UI-FLOW-1")
    page_path = f"/investigations/{investigation_id}"

    investigator = browser.new_context(accept_downloads=True)
    approver = browser.new_context(accept_downloads=True)
    try:
        # Sign in, the queue, a drafted demo investigation.
        page = sign_in(investigator, server, users.investigator, "/queue")
        assert_accessible(page, "queue")
        row = page.get_by_role("row").filter(has_text="Inlet air temperature excursion")
        expect(row.first).to_contain_text("awaiting review")
        expect(row.first).to_contain_text("GR-201")
        expect(row.first).to_contain_text("PRD-0042")
        expect(row.first).to_contain_text("major")  # the AI's criticality suggestion
        shot(page, artifacts, "01-queue")
        page.goto(server.url + page_path)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Inlet air temperature")
        expect(page.locator(".badge.unsupported").first).to_be_visible()
        expect(page.get_by_role("img", name=re.compile("with its limits"))).to_be_visible()
        expect(page.locator("#similar-h")).to_be_visible()
        expect(page.get_by_text("DEV-2025-0101")).to_be_visible()
        assert_accessible(page, "investigation (investigator)")

        # A citation chip opens the source, revision shown, quoted span highlighted.
        page.locator("button.chip").first.click()
        source = page.locator("#source-panel")
        expect(source.locator("mark")).to_have_text(SOP_QUOTE)
        expect(source).to_contain_text("Revision")
        expect(source.locator("dd").first).to_have_text("3")
        shot(page, artifacts, "02-citation-source")

        # Chat: the answer streams in (text before it is done), then shows its citation.
        page.get_by_label("Your question about this investigation").fill(
            "What are the inlet air limits?"
        )
        page.get_by_role("button", name="Ask").click()
        page.wait_for_function(
            """() => {
                const box = document.querySelector('.answer[data-stream]');
                const live = box && box.querySelector('.streaming');
                return live && live.textContent.length > 0 && !box.dataset.done;
            }""",
            timeout=10_000,
        )
        answer = page.locator(".answer-done").last
        expect(answer).to_contain_text("between 55 C and 65 C", timeout=15_000)
        expect(answer.locator(".chat-cites")).to_contain_text("SOP-GR-001 rev 3")
        assert server.chat.questions[-1] == "What are the inlet air limits?"
        shot(page, artifacts, "03-chat-answer")
        assert_accessible(page, "investigation with chat")

        # The approver requests changes.
        review = sign_in(approver, server, users.approver, page_path)
        review.get_by_label("Section").select_option("executive_summary")
        review.get_by_label("What needs to change").fill("State the batch disposition basis.")
        review.get_by_role("button", name="Request changes").click()
        expect(review.locator(".notice")).to_contain_text("Changes requested")
        expect(review.locator(".meta .status")).to_have_text("changes requested")
        shot(review, artifacts, "04-changes-requested")

        # The investigator records the human decisions (each edit needs a reason) and resubmits.
        page.goto(server.url + page_path)
        for section, field, choice in (
            ("Classification", "Criticality final (human decision)", "major"),
            ("Root cause analysis", "Conclusion level (human decision)", "most_probable"),
            ("Disposition", "Final (human decision)", "pending"),
        ):
            page.get_by_text(f"Edit {section}", exact=True).click()
            form = page.locator("form", has=page.get_by_role("button", name=f"Save {section}"))
            form.get_by_label(field).select_option(choice)
            form.get_by_label("Reason for the change (required)").fill("QA review outcome")
            form.get_by_role("button", name=f"Save {section}").click()
            expect(page.locator(".notice")).to_contain_text("new version")
        expect(page.locator("#sec-classification .badge.human").first).to_be_visible()
        page.get_by_role("button", name=re.compile("Resubmit version")).click()
        expect(page.locator(".meta .status")).to_have_text("awaiting review")

        # History and diff of the human edits.
        page.get_by_role("link", name="Version history and diff").click()
        expect(page.locator("pre.diff ins").first).to_be_visible()
        assert_accessible(page, "history")
        shot(page, artifacts, "05-history-diff")

        # Approve with a signature: a wrong password is refused, the right one signs.
        review.goto(server.url + page_path)
        review.get_by_role("button", name="Approve and sign…").click()
        dialog = review.locator("#approve-dialog")
        expect(dialog).to_contain_text("Printed name: Approver Person")
        expect(dialog).to_contain_text("Meaning: approved")
        assert_accessible(review, "signature dialog")
        dialog.get_by_label("User name").fill(users.approver)
        dialog.get_by_label("Password").fill("not the password at all")
        dialog.get_by_role("button", name="Sign: approved").click()
        dialog = review.locator("#approve-dialog")
        expect(dialog.locator(".error")).to_contain_text("wrong password")
        expect(review.locator(".meta .status")).to_have_text("awaiting review")
        shot(review, artifacts, "06-signature-refused")
        dialog.get_by_label("User name").fill(users.approver)
        dialog.get_by_label("Password").fill(PASSWORD)
        dialog.get_by_role("button", name="Sign: approved").click()
        expect(review.locator(".notice")).to_contain_text("Approved and signed")
        expect(review.locator(".meta .status")).to_have_text("approved")
        expect(review.locator("#sig-h")).to_be_visible()
        shot(review, artifacts, "07-approved")

        # The signed report as PDF.
        with review.expect_download() as download_info:
            review.get_by_role("link", name="Download the signed report (PDF)").click()
        pdf = Path(download_info.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 1000
        (artifacts / "signed-report.pdf").write_bytes(pdf)
    finally:
        investigator.close()
        approver.close()


def test_other_pages_are_accessible_and_keyboard_reachable(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    server = live_server
    investigation_id = server.open_event("MES-UI-KEYS-1")
    context = browser.new_context()
    try:
        anonymous = context.new_page()
        anonymous.goto(server.url + "/")
        assert_accessible(anonymous, "landing (signed out)")
        anonymous.goto(server.url + "/login")
        assert_accessible(anonymous, "login")
        page = sign_in(context, server, server.users.approver, "/documents")
        assert_accessible(page, "documents")
        page.goto(server.url + "/search?q=inlet+air+temperature")
        expect(page.locator("ol.hits li").first).to_contain_text("SOP-GR-001")
        expect(page.locator("ol.hits")).not_to_contain_text("CANARY-B-7731")
        assert_accessible(page, "search")
        page.goto(server.url + "/audit?entity=investigation")
        expect(page.locator("table.audit tbody tr").first).to_contain_text("investigation")
        assert_accessible(page, "audit")
        shot(page, artifacts, "08-audit")

        # Keyboard: Tab reaches the main controls of the investigation page, in order.
        page.goto(server.url + f"/investigations/{investigation_id}")
        reached: list[str] = []
        for _ in range(250):
            page.keyboard.press("Tab")
            reached.append(
                page.evaluate(
                    """() => {
                        const e = document.activeElement;
                        return (e.tagName + ':' + (e.getAttribute('aria-label') || e.textContent || '')).trim();
                    }"""
                )
            )
        text = "\n".join(reached)
        for wanted in (
            "A:Skip to content",
            "A:Queue",
            "BUTTON:Source 1",
            "SUMMARY:Edit Executive summary",
            "TEXTAREA:",
            "BUTTON:Request changes",
            "BUTTON:Approve and sign",
            "BUTTON:Ask",
        ):
            assert wanted in text, f"Tab never reached {wanted!r}"
        # A citation opened from the keyboard moves focus to its source.
        page.goto(server.url + f"/investigations/{investigation_id}")
        page.locator("button.chip").first.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#source-panel h3")).to_be_focused()
    finally:
        context.close()


HOSTILE = (
    'Drying overran. <script>window.__pwned = "script"</script>'
    '<img src="x" onerror="window.__pwned = \'img\'"> end.'
)


def test_model_and_user_text_render_as_text(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    """A draft (from the event text) and a chat answer containing HTML show it literally."""
    server = live_server
    investigation_id = server.open_event("MES-UI-XSS-1", description=HOSTILE)
    context = browser.new_context()
    try:
        page = sign_in(context, server, server.users.investigator, "/queue")
        page.goto(server.url + f"/investigations/{investigation_id}")
        summary = page.locator("#sec-executive_summary .st-text")
        expect(summary).to_contain_text('<script>window.__pwned = "script"</script>')
        expect(summary).to_contain_text('<img src="x" onerror=')
        page.get_by_label("Your question about this investigation").fill(HOSTILE)
        page.get_by_role("button", name="Ask").click()
        answer = page.locator(".answer-done").last
        expect(answer).to_contain_text('<img src="x" onerror=', timeout=15_000)
        expect(page.locator(".turn.user .q").last).to_contain_text("<script>")
        page.goto(server.url + f"/investigations/{investigation_id}")  # stored answer, rendered
        expect(page.locator(".answer-done").last).to_contain_text("<script>")
        shot(page, artifacts, "09-escaped-html")
        assert page.evaluate("window.__pwned") is None
        assert page.locator('img[src="x"]').count() == 0
        assert page.locator("main script").count() == 0
    finally:
        context.close()


def test_document_upload_shows_its_ingestion_status(
    browser: Browser, live_server: LiveServer, artifacts: Path, tmp_path: Path
) -> None:
    server = live_server
    upload = tmp_path / "SOP-UPLOAD-9.txt"
    upload.write_text("9.1 Cleaning of GR-201 after each campaign.\n", encoding="utf-8")
    context = browser.new_context()
    try:
        page = sign_in(context, server, server.users.investigator, "/documents")
        page.get_by_label(re.compile("^File")).set_input_files(str(upload))
        page.get_by_label("Document type").select_option("sop")
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#upload-status")).to_contain_text("Uploaded SOP-UPLOAD-9.txt")
        row = page.get_by_role("row").filter(has_text="SOP-UPLOAD-9.txt")
        expect(row).to_contain_text("stored")  # no ingestor in this server: stored only
        expect(row).to_contain_text("no ingestion configured")
        assert_accessible(page, "documents after upload")
        shot(page, artifacts, "10-documents")
    finally:
        context.close()
