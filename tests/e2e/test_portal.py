"""The portal page in a real headless Chromium (Debian's package; no browser downloads).

The gateway is served on a real loopback port (the browser needs a socket);
Chromium loads ``/portal/`` with a token in the URL, lets the page's own
JavaScript call ``/graphql``, and we read the rendered DOM text of both views.
Screenshots go to ``tests/artifacts/`` (gitignored). Without ``/usr/bin/chromium``
the test skips with the reason, unless ``ONEDOOR_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from gateway.demo import demo_samples
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox
from tests.e2e.browser import ARTIFACTS, BASE_FLAGS, CHROMIUM, need_chromium, serving_demo

FLAGS = (*BASE_FLAGS, "--window-size=1280,1600", "--virtual-time-budget=20000")

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _need_chromium() -> None:
    need_chromium("the portal")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Sandbox]]:
    """The sandbox and a demo-mode gateway on real loopback ports."""
    state_dir = tmp_path_factory.mktemp("portal")
    async with serving_demo(state_dir) as (url, sb):
        (state_dir / "demo.json").write_text(
            f'{{"issuer": "{sb.idp_url}", "samples": ["{demo_samples(sb.world)[0]}"]}}')
        yield url, sb


async def _chromium(tmp: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0
    return out.decode()


async def _render(tmp: Path, url: str, name: str) -> str:
    """The DOM after the page's scripts ran, and a screenshot beside it."""
    ARTIFACTS.mkdir(exist_ok=True)
    dom = await _chromium(tmp / f"{name}-dom", "--dump-dom", url)
    await _chromium(tmp / f"{name}-shot", f"--screenshot={ARTIFACTS / f'portal-{name}.png'}", url)
    assert (ARTIFACTS / f"portal-{name}.png").stat().st_size > 10_000
    (ARTIFACTS / f"portal-{name}.html").write_text(dom)
    return dom


def _text(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


async def test_portal_renders_both_views(served: tuple[str, Sandbox], tmp_path: Path) -> None:
    _need_chromium()
    base, sb = served
    citizen = demo_samples(sb.world)[0]
    portal = mint_token(sb.state_dir, {"iss": sb.idp_url, **persona_claims("portal")}, ttl=600)
    dom = await _render(tmp_path, f"{base}/portal/?view=citizen&token={portal}&id={citizen}", "citizen")
    assert 'data-state="ready"' in dom, _text(dom)[:2000]
    text = _text(dom)
    for centre in ("矛调中心", "公共法律服务中心", "信访中心", "诉讼服务中心", "综治中心（网格）"):
        assert centre in text  # all five centres on the one timeline
    assert "件事项" in text and re.search(r"(移送至|转为信访|司法确认|法律援助于|诉前调解)", text)

    analyst = mint_token(sb.state_dir, {"iss": sb.idp_url, **persona_claims("analyst")}, ttl=600)
    dom = await _render(tmp_path, f"{base}/portal/?view=dispatcher&token={analyst}&region=630000",
                        "dispatcher")
    assert 'data-state="ready"' in dom, _text(dom)[:2000]
    text = _text(dom)
    for label in ("受理率", "转交办率", "办结率", "按期办结率", "调解成功率", "超期事项", "西宁市", "黄南藏族自治州",
                  "信访工作条例 第三十四条", "中心汇总", "网关计算"):
        assert label in text, label
    assert dom.count("<rect") >= 4  # the SVG charts were drawn


async def test_demo_tokens_only_in_demo_mode(served: tuple[str, Sandbox]) -> None:
    base, _ = served
    async with httpx.AsyncClient(base_url=base) as client:
        body = (await client.get("/portal/demo-tokens")).json()
        assert set(body["tokens"]) == {"analyst", "portal", "citizen"} and body["samples"]
        page = await client.get("/portal/")
        assert page.status_code == 200 and "调度视图" in page.text
        me = await client.post("/graphql", json={"query": "{ me { name } }"},
                               headers={"Authorization": f"Bearer {body['tokens']['citizen']}"})
        assert me.json()["data"]["me"]["name"]
