"""The dashboard in headless Chromium (Debian's ``chromium``, driven by Playwright), asserting
on what a person sees: a mapping's row, a DLQ depth that changes after a message is
poisoned, the journey of that message, and the redrive button.

Set ``HEADWATER_SCREENSHOTS=<dir>`` to save screenshots of the pages (docs/ holds them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server, zip_of
from tests.integration.observability_app import FIXED, deploy_app, wait_for

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():  # .ci/run installs Debian's chromium
    pytest.skip("Debian's chromium package is not installed", allow_module_level=True)

BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("dash"), ["--time-scale", "60"]) as running:
        yield running


@pytest.fixture(scope="module")
def page(server: ServerProcess) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> None:
    target = os.environ.get("HEADWATER_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name), full_page=True)


def test_dashboard_shows_a_poisoned_message_and_redrives_it(
    server: ServerProcess, page: Any
) -> None:
    expect = playwright_api.expect
    app = deploy_app(server)
    page.goto(server.endpoint + "/_headwater/")
    mapping = page.locator("tr.mapping")
    expect(mapping).to_have_count(1)
    expect(mapping).to_contain_text("sqs: orders")
    expect(mapping).to_contain_text("digest")
    expect(mapping).to_contain_text("Enabled")
    dlq_depth = page.locator('tr.queue[data-queue="orders-dlq"] td.visible')
    expect(dlq_depth).to_have_text("0")

    sqs = boto_client(server.endpoint, "sqs")
    poisoned = sqs.send_message(QueueUrl=app["url"], MessageBody="poison")["MessageId"]
    sqs.send_message(QueueUrl=app["url"], MessageBody="fine")
    # the page refreshes itself: the DLQ depth changes without a reload
    expect(dlq_depth).to_have_text("1", timeout=30_000)
    expect(page.locator('tr.alarm[data-alarm="orders-dlq-depth"]')).to_contain_text(
        "ALARM", timeout=30_000
    )
    expect(page.locator("#records")).to_contain_text(poisoned, timeout=10_000)
    screenshot(page, "dashboard.png")

    page.locator(f'#records a:has-text("{poisoned}")').click()
    steps = page.locator(".step")
    expect(page.locator("h2")).to_contain_text(poisoned)
    expect(steps.filter(has_text="Receive 1")).to_have_count(1)
    expect(steps.filter(has_text="Receive 2")).to_have_count(1)
    errors = page.locator(".error")
    expect(errors.first).to_have_text(f"ValueError: cannot digest {poisoned}")
    expect(page.locator(".step.dead-letter")).to_contain_text("orders-dlq")
    expect(page.locator("pre").first).to_contain_text("handling poison")
    screenshot(page, "journey.png")

    page.goto(server.endpoint + "/_headwater/functions/digest?region=us-west-2")
    expect(page.locator("pre")).to_contain_text("REPORT RequestId")
    screenshot(page, "function.png")

    # fix the function, then press "redrive back"
    boto_client(server.endpoint, "lambda").update_function_code(
        FunctionName="digest", ZipFile=zip_of(FIXED)
    )
    page.goto(server.endpoint + "/_headwater/")
    button = page.locator('tr.queue[data-queue="orders-dlq"] button')
    expect(button).to_contain_text("Redrive back to orders")
    button.click()
    expect(page.locator('tr.queue[data-queue="orders-dlq"] td.visible')).to_have_text(
        "0", timeout=30_000
    )
    logs = boto_client(server.endpoint, "logs")
    wait_for(
        lambda: logs.filter_log_events(
            logGroupName="/aws/lambda/digest", filterPattern='"digested poison"'
        )["events"],
        what="the redriven message processed by the fixed function",
    )
