"""The HTML report in a real browser: headless Chromium opens it, every image loads, nothing errs.

Chromium is driven directly (Debian's ``chromium`` package; no browser download): a copy of the
report gets a small checking script at the top of its ``<head>`` (allowed by adding the script's hash
to the page's Content-Security-Policy, which otherwise forbids all script), and ``--dump-dom`` returns
the page with the script's findings written into it. The browser's own console log (on stderr)
is checked too. Skipped, with the reason, where Chromium is not installed; under CI it must be.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from test_report_data import compare_folder

from fundsim.report.catalogue import FIGURES

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Written at the top of <head>: listens for errors before anything loads, reports after ``load``.
CHECK_SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push('error: ' + (e.message || (e.target && (e.target.currentSrc || e.target.tagName)) || 'unknown'));
  }, true);
  window.addEventListener('securitypolicyviolation', function (e) {
    errors.push('content security policy: ' + e.violatedDirective + ' ' + e.blockedURI);
  });
  var original = console.error;
  console.error = function () {
    errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
  window.addEventListener('load', function () {
    var images = Array.prototype.map.call(document.images, function (img) {
      var box = img.getBoundingClientRect();
      return {alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
              naturalHeight: img.naturalHeight, width: box.width, height: box.height};
    });
    var svgs = Array.prototype.map.call(document.querySelectorAll('svg'), function (svg) {
      var box = svg.getBoundingClientRect();
      return {width: box.width, height: box.height};
    });
    var out = document.createElement('pre');
    out.id = 'fundsim-check';
    out.textContent = JSON.stringify({images: images, svgs: svgs, errors: errors});
    document.body.appendChild(out);
  });
})();
"""


def chromium() -> str | None:
    """The Chromium executable (``FUNDSIM_CHROMIUM`` or the first on PATH), or None."""
    configured = os.environ.get("FUNDSIM_CHROMIUM")
    if configured:
        return configured
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> str:
    path = chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed on CI: .ci/run must `apt-get install -y chromium`")
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium), so the report was not checked in a browser"
        )
    return path


def _run(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(prefix="fundsim-chromium-")
    try:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def check_page(browser: str, html: Path) -> dict[str, object]:
    """Open ``html`` with the checking script; its findings plus the console lines Chromium logged."""
    digest = base64.b64encode(hashlib.sha256(CHECK_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    text = html.read_text(encoding="utf-8")
    assert "default-src 'none';" in text, "the report should carry its Content-Security-Policy"
    text = text.replace("default-src 'none';", f"default-src 'none'; script-src 'sha256-{digest}';", 1)
    text = text.replace("<head>", f"<head>\n<script>{CHECK_SCRIPT}</script>", 1)
    checked = html.with_name(f".checked-{html.name}")
    checked.write_text(text, encoding="utf-8")
    try:
        done = _run(browser, "--virtual-time-budget=10000", "--dump-dom", checked.as_uri())
    finally:
        checked.unlink()
    match = re.search(r'<pre id="fundsim-check">(.*?)</pre>', done.stdout, re.S)
    assert match, f"the checking script did not report (exit {done.returncode}): {done.stderr[-2000:]}"
    found = json.loads(
        match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    found["console"] = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return found


def _assert_clean(found: dict[str, object], n_images: int) -> None:
    images = found["images"]
    assert isinstance(images, list)
    assert len(images) == n_images
    for img in images:
        assert img["complete"], img
        assert img["naturalWidth"] > 0, img
        assert img["naturalHeight"] > 0, img
        assert img["width"] > 0, img
        assert img["height"] > 0, img
    for svg in found["svgs"]:  # type: ignore[union-attr]
        assert svg["width"] > 0, svg
        assert svg["height"] > 0, svg
    assert found["errors"] == []
    assert found["console"] == []


def test_report_opens_in_chromium_with_every_image_loaded(browser: str, tmp_path: Path) -> None:
    report = compare_folder() / "report.html"
    found = check_page(browser, report)
    _assert_clean(found, n_images=len(FIGURES))
    shot = tmp_path / "report.png"
    done = _run(browser, "--hide-scrollbars", "--window-size=1100,1600", f"--screenshot={shot}", report.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1100, 1600)
        colours = image.convert("L").getcolors(maxcolors=1_000_000)
        assert colours is not None
        assert len(colours) > 20, "the screenshot is blank"


def test_browser_check_catches_a_broken_image(browser: str, tmp_path: Path) -> None:
    """The check above can fail: a figure whose data is not an image is caught."""
    report = tmp_path / "broken.html"
    text = (compare_folder() / "report.html").read_text(encoding="utf-8")
    text = re.sub(r'src="data:image/svg\+xml;base64,[^"]*"', 'src="data:image/svg+xml;base64,PHN2Zz4="', text, count=1)
    report.write_text(text, encoding="utf-8")
    found = check_page(browser, report)
    broken = [img for img in found["images"] if img["naturalWidth"] == 0]  # type: ignore[union-attr]
    assert len(broken) == 1
    assert found["errors"], "the failed image should raise an error event"
    with pytest.raises(AssertionError):
        _assert_clean(found, n_images=len(FIGURES))
