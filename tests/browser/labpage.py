"""A JupyterLab server on a copy of the lessons, and a page object for driving it in Chromium.

The server runs `jupyter lab` on a free localhost port with a token, on a temporary copy of
`lessons/` (the repository is never written), with autosave, news and update checks off and
`COURSE_FAST=1`. The browser is the system's Chromium driven by selenium through the system's
chromedriver (nothing downloads a browser); `COURSE_CHROMIUM` and `COURSE_CHROMEDRIVER` override
their paths. Both are stopped at the end: the browser by `quit()`, the server by its process group.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COURSE_CHROMEDRIVER", "/usr/bin/chromedriver")

# JupyterLab user settings for the test server: no autosave (the copy is never written), no news or
# update requests, and every cell attached to the page so that outputs and rendered Markdown can be
# inspected without scrolling each one into view.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _end_with_parent() -> None:
    """In the server's process before exec (Linux): SIGTERM when the test process dies, even by
    SIGKILL, so that no server outlives its tests."""
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


class LabServer:
    """A `jupyter lab` process in its own process group, and how to reach it."""

    def __init__(self, root: Path):
        self.root = root
        self.notebooks = root / "lessons"
        shutil.copytree(LESSONS, self.notebooks)
        settings = root / "settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "lab.log"

        env = dict(os.environ)
        # What a learner's kernel sees: inline figures and progress bars, so no Agg backend and no
        # disabled tqdm inherited from the test process; fast mode so that CI stays in budget.
        for name in ("MPLBACKEND", "TQDM_DISABLE"):
            env.pop(name, None)
        env.update(COURSE_FAST="1", JUPYTER_RUNTIME_DIR=str(root / "runtime"),
                   JUPYTER_CONFIG_DIR=str(root / "config"), IPYTHONDIR=str(root / "ipython"),
                   PYTHONUNBUFFERED="1")
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.notebooks}",
               "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={root / 'workspaces'}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log_file = open(self.log, "wb")
        self.process = subprocess.Popen(cmd, cwd=self.notebooks, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_end_with_parent)

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_quietly(self, path: str) -> None:
        """DELETE `path`; a session already gone, or a shutdown slower than the request's timeout, is
        no error (stop() ends whatever is left)."""
        try:
            self.api(path, method="DELETE")
        except OSError:
            pass

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with status {self.process.returncode}; "
                                   f"its log ({self.log}) ends:\n{_tail(self.log)}")
            try:
                self.api("/api/status")
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"jupyter lab did not answer on {self.url} within {timeout:.0f} s; "
                           f"its log ({self.log}) ends:\n{_tail(self.log)}")

    def stop(self) -> None:
        """Shut the kernels down through the API, then end the server's process group by its PID."""
        if self.process.poll() is None:
            try:
                for kernel in self.api("/api/kernels") or []:
                    self.api(f"/api/kernels/{kernel['id']}", method="DELETE")
            except OSError:
                pass
            pgid = self.process.pid          # start_new_session: the group id is the server's PID
            for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log_file.close()


def wait_js(driver, script: str, timeout: float, what: str, *args):
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script, *args)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (waited {timeout:.0f} s)")
        time.sleep(0.5)


# --- the page: one open notebook at a time --------------------------------------------------------

_OPEN = """
const [path, done] = arguments;
const app = window.jupyterapp;
(async () => {
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  window.__courseNotebook = panel;
  done({id: panel.id});
})().catch(e => done({error: String((e && e.stack) || e)}));
"""

_KERNEL_IDLE = """
const panel = window.__courseNotebook;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
"""

# Progress of a run: the kernel's status, cells still queued or running ('[*]' prompts), and the
# execution counts of the code cells.
_PROGRESS = """
const panel = window.__courseNotebook;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
let running = 0;
const counts = [];
for (const cell of panel.content.widgets) {
  if (cell.model.type !== 'code') { counts.push(null); continue; }
  const prompt = cell.node.querySelector('.jp-InputPrompt');
  if (prompt && prompt.textContent.includes('*')) running += 1;
  counts.push(cell.model.executionCount);
}
return {status: kernel ? kernel.status : 'none', running, counts};
"""

# Everything the assertions need about every cell: the model's outputs (types and text, not the
# image bytes) and what the page shows (images, rendered Markdown, MathJax, visible output text).
_CELLS = """
const panel = window.__courseNotebook;
const clip = (s, n) => (s || '').length > n ? s.slice(0, n) + '…' : (s || '');
return panel.content.widgets.map((cell, index) => {
  const r = {index, type: cell.model.type, source: cell.model.sharedModel.getSource()};
  if (r.type === 'code') {
    r.executionCount = cell.model.executionCount;
    r.outputs = cell.model.outputs.toJSON().map(o => ({
      output_type: o.output_type, name: o.name || null,
      text: clip(Array.isArray(o.text) ? o.text.join('') : o.text, 4000),
      ename: o.ename || null, evalue: clip(o.evalue, 2000),
      traceback: o.traceback ? clip(o.traceback.join('\\n'), 4000) : null,
      mimes: o.data ? Object.keys(o.data) : []}));
    const area = cell.node.querySelector('.jp-Cell-outputArea') || cell.node.querySelector('.jp-OutputArea');
    r.visibleText = area ? area.innerText : '';
    r.images = Array.from(cell.node.querySelectorAll('.jp-OutputArea-output img')).map(img => {
      const box = img.getBoundingClientRect();
      return {width: img.naturalWidth, height: img.naturalHeight, shownWidth: box.width, shownHeight: box.height,
              complete: img.complete};
    });
  } else if (r.type === 'markdown') {
    const md = cell.node.querySelector('.jp-MarkdownOutput');
    r.rendered = !!md && cell.rendered;
    r.mathjax = md ? md.querySelectorAll('mjx-container').length : 0;
    r.mathErrors = md ? Array.from(md.querySelectorAll('mjx-merror'))
                          .map(e => e.getAttribute('data-mjx-error') || e.textContent) : [];
    if (md) {
      const copy = md.cloneNode(true);
      copy.querySelectorAll('code, pre, mjx-container, script, style').forEach(e => e.remove());
      r.text = copy.textContent;
    } else {
      r.text = '';
    }
  }
  return r;
});
"""

# Characters of the rendered Markdown that the page draws as a missing-glyph box: each CJK character
# is drawn on a canvas in the font its paragraph uses and compared with a private-use character,
# which no installed font has (Chromium draws the same box, or nothing, for every missing glyph).
_MISSING_GLYPHS = """
const panel = window.__courseNotebook;
const chars = new Map();
for (const md of panel.node.querySelectorAll('.jp-MarkdownOutput')) {
  for (const el of md.querySelectorAll('h1, h2, h3, p, li, td, th')) {
    const style = getComputedStyle(el);
    const font = `${style.fontWeight} 32px ${style.fontFamily}`;
    for (const ch of el.textContent) {
      if (/[\\u3400-\\u9fff\\uff00-\\uffef\\u3000-\\u303f]/.test(ch) && !chars.has(ch)) chars.set(ch, font);
    }
  }
}
const canvas = document.createElement('canvas');
canvas.width = 48; canvas.height = 48;
const ctx = canvas.getContext('2d', {willReadFrequently: true});
const draw = (ch, font) => {
  ctx.clearRect(0, 0, 48, 48); ctx.font = font; ctx.fillStyle = '#000'; ctx.textBaseline = 'top';
  ctx.fillText(ch, 4, 4);
  return Array.from(ctx.getImageData(0, 0, 48, 48).data).join(',');
};
const missing = [];
for (const [ch, font] of chars) {
  const drawn = draw(ch, font);
  if (drawn === draw('\\ue000', font) || !/[1-9]/.test(drawn)) missing.push(ch);
}
return {checked: chars.size, count: missing.length, missing: missing.slice(0, 40)};
"""

_CLOSE = """
const panel = window.__courseNotebook;
window.__courseNotebook = null;
if (!panel || panel.isDisposed) return null;
const session = panel.sessionContext.session;
panel.context.model.dirty = false;      // unsaved on purpose: the copy is never written
panel.dispose();                        // closes the tab; the kernel keeps running, as in JupyterLab
return session ? session.id : null;
"""


class LabPage:
    """What a learner does in JupyterLab, done through the page: open a lesson, use the Run menu,
    click into a cell and enter text, press Shift+Enter; and what the page then shows."""

    def __init__(self, driver, shots: Path, server: LabServer | None = None):
        self.driver = driver
        self.shots = shots
        self.server = server

    # opening and closing
    def open(self, path: str, timeout: float = 120.0, render_timeout: float = 60.0, *, kernel: bool = True) -> None:
        """Open the notebook in a tab and wait until its kernel is idle (unless `kernel` is false: only
        reading it) and its maths typeset."""
        opened = self.driver.execute_async_script(_OPEN, path)
        assert "error" not in opened, f"JupyterLab could not open {path}: {opened['error']}"
        if kernel:
            wait_js(self.driver, _KERNEL_IDLE, timeout, f"the kernel of {path} did not become idle")
        self.wait_rendered(render_timeout)

    def close(self) -> None:
        """Close the tab, and shut its kernel down through the server's API in the background (the
        next lesson need not wait for it to exit)."""
        session = self.driver.execute_script(_CLOSE)
        if session and self.server is not None:
            threading.Thread(target=self.server.delete_quietly, args=(f"/api/sessions/{session}",),
                             daemon=True).start()

    def wait_rendered(self, timeout: float = 60.0) -> None:
        """Until every Markdown cell whose source has maths shows MathJax output (typesetting is
        asynchronous); returns quietly on timeout, leaving the failure to the assertions."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not [c for c in self.cells() if c["type"] == "markdown" and has_math(c["source"])
                    and c["mathjax"] == 0]:
                return
            time.sleep(0.5)

    # menus and keys
    def menu(self, title: str, label: str) -> None:
        """Open the menu bar's `title` menu and click its item `label`, as a learner does."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.find_element(
            By.XPATH, f"//div[contains(@class, 'lm-MenuBar-itemLabel') and normalize-space()='{title}']").click()
        item = WebDriverWait(self.driver, 10).until(EC.element_to_be_clickable((By.XPATH, (
            "//ul[contains(@class, 'lm-Menu-content')]/li[contains(@class, 'lm-Menu-item')]"
            f"[div[contains(@class, 'lm-Menu-itemLabel') and normalize-space()='{label}']]"))))
        item.click()

    def shift_enter(self) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

    def cell_element(self, index: int, *, output: bool = False):
        """The cell's element, scrolled to the middle of the window (with `output`, its first image or
        output instead, where it has one)."""
        return self.driver.execute_script(
            "const c = window.__courseNotebook.content.widgets[arguments[0]];"
            "const out = arguments[1] && (c.node.querySelector('.jp-OutputArea-output img')"
            "                            || c.node.querySelector('.jp-OutputArea-output'));"
            "(out || c.node).scrollIntoView({block: 'center', behavior: 'instant'}); return c.node;", index, output)

    def select_cell(self, index: int) -> None:
        """Click the cell's prompt, as a learner selects a cell (command mode)."""
        from selenium.webdriver.common.by import By
        self.cell_element(index).find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()

    def replace_cell_text(self, index: int, text: str) -> str:
        """Click into the cell's editor, select all, and insert `text` in one input event (as a
        paste or an input method does: CodeMirror then neither auto-closes brackets nor
        re-indents). Returns the cell's source afterwards."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        editor = self.cell_element(index).find_element(By.CSS_SELECTOR, ".cm-content")
        editor.click()
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
        self.driver.execute_cdp_cmd("Input.insertText", {"text": text})
        return self.driver.execute_script(
            "return window.__courseNotebook.content.widgets[arguments[0]].model.sharedModel.getSource();", index)

    # waiting for the kernel
    def progress(self) -> dict:
        return self.driver.execute_script(_PROGRESS)

    def wait_run(self, until, timeout: float, what: str) -> dict:
        """Poll until `until(progress)` holds with the kernel idle and no cell queued or running,
        twice in a row (the kernel is briefly idle between queued cells)."""
        deadline = time.monotonic() + timeout
        settled = 0
        while True:
            p = self.progress()
            if p["status"] in ("dead", "autorestarting"):
                raise AssertionError(f"{what}: the kernel died ({p['status']}); out of memory?")
            if p["status"] == "idle" and p["running"] == 0 and until(p):
                settled += 1
                if settled >= 2:
                    return p
            else:
                settled = 0
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still running after {timeout:.0f} s ({p['running']} cells "
                                     f"queued or running, kernel {p['status']})")
            time.sleep(1.0)

    def cells(self) -> list[dict]:
        return self.driver.execute_script(_CELLS)

    def missing_glyphs(self) -> dict:
        """{'checked': how many distinct CJK characters the rendered Markdown holds, 'count': how many of them are
        drawn as a missing-glyph box, 'missing': the first 40 of those}."""
        return self.driver.execute_script(_MISSING_GLYPHS)

    def screenshot(self, name: str, index: int | None = None, *, output: bool = False) -> Path:
        """Save the window as NAME.png, scrolled to cell `index` (or its output) first."""
        if index is not None:
            self.cell_element(index, output=output)
            time.sleep(0.3)
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)


def has_math(markdown: str) -> bool:
    """Whether Markdown source has TeX maths outside code (what MathJax should typeset)."""
    return bool(_MATH.search(_CODE.sub("", markdown)))
