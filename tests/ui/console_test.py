#!/usr/bin/env python3
"""The operations console in a real headless Chromium, driven by Selenium.

Starts real booking-server processes on loopback with a SQLite file, makes a
booking end in compensation_failed (the payment provider refuses every void),
restarts the server without that fault (the provider recovered), and then,
in the browser: finds the booking in /ui, opens its saga timeline (one mark
per history entry), presses Re-drive and sees it become failed, sees the
live charts draw, checks the page on a phone-sized window, and with an admin
token set sees the page ask for it. Screenshots go to --artifacts.

Exits 0 when every check passed; prints each failure and exits 1 otherwise.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

STUCK_FAULTS = ["--faults.payment-timeout-rate=1", "--faults.refund-error-rate=1",
                "--saga.compensation-max-attempts=2", "--saga.payment-timeout=200ms"]
BOOKING = {"tour_id": "porto-wine", "date": "2026-12-12", "seats": 1,
           "customer": {"name": "Ana Lima", "email": "ana@example.com"},
           "payment": {"token": "tok_ok"}}

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, workdir, name, extra, env=None):
        self.port = free_port()
        self.log_path = os.path.join(workdir, name + ".log")
        args = [binary, "--http.address=127.0.0.1", "--http.port=%d" % self.port,
                "--store.path=" + os.path.join(workdir, "booking.db"),
                "--tours=" + os.path.join(workdir, "tours.json")] + extra
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("BOOKING_")}
        full_env.update(env or {})
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, env=full_env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + open(self.log_path).read()[-2000:])
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not get ready")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"} if data else {}
        h.update(headers or {})
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def book_stuck(server, headers=None):
    status, body = server.call("POST", "/api/v1/bookings", BOOKING,
                               dict({"Prefer": "wait=10"}, **(headers or {})))
    if not check(status == 200 and body["status"] == "compensation_failed",
                 "a booking ends compensation_failed (got %s %s)" % (status, body)):
        raise SystemExit(1)
    booking_id = body["id"]
    # Its saga ends with the notification step: wait for it.
    deadline = time.time() + 10
    while time.time() < deadline:
        _, b = server.call("GET", "/api/v1/bookings/" + booking_id, headers=headers)
        if any(e["step"] == "send_notification" for e in b["saga"]):
            return booking_id
        time.sleep(0.05)
    raise SystemExit("the saga of %s did not end" % booking_id)


def wait_for(predicate, timeout=15, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # the page may be mid-render
            pass
        time.sleep(step)
    return None


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=%d,%d" % (width, height)):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shot(driver, artifacts, name):
    path = os.path.join(artifacts, name)
    driver.save_screenshot(path)
    print("     screenshot " + path, flush=True)


def mark_count(driver):
    return len(driver.find_elements(By.CSS_SELECTOR, "#timeline .mark"))


def polyline_points(driver, selector):
    lines = driver.find_elements(By.CSS_SELECTOR, selector)
    return max([int(l.get_attribute("data-points") or 0) for l in lines] or [0])


def console_flow(server, artifacts, stuck_id):
    driver = browser(1366, 900)
    try:
        driver.get(server.url("/ui"))
        # The list opens on compensation_failed when there is any.
        chip = wait_for(lambda: driver.find_element(
            By.CSS_SELECTOR, '#status-filter [data-status="compensation_failed"] b'))
        check(chip is not None and wait_for(lambda: chip.text == "1"),
              "the compensation_failed chip counts 1")
        row = wait_for(lambda: driver.find_element(
            By.CSS_SELECTOR, '#bookings tbody tr[data-id="%s"]' % stuck_id))
        check(row is not None, "the stuck booking is listed first")
        shot(driver, artifacts, "console-list.png")
        if row is None:
            return
        row.click()
        _, booking = server.call("GET", "/api/v1/bookings/" + stuck_id)
        entries = len(booking["saga"])
        check(wait_for(lambda: mark_count(driver) == entries) is not None,
              "the timeline has one mark per history entry (%d marks, %d entries)"
              % (mark_count(driver), entries))
        kinds = {(m.get_attribute("data-action"), m.get_attribute("data-outcome"))
                 for m in driver.find_elements(By.CSS_SELECTOR, "#timeline .mark")}
        check(("compensate", "error") in kinds and ("query", "ok") in kinds,
              "the timeline shows the failed compensations and the query: %s" % sorted(kinds))
        check(len(driver.find_elements(By.CSS_SELECTOR, "#timeline path.back")) >= 1,
              "compensations are drawn going back")
        button = driver.find_element(By.ID, "redrive")
        check(button.is_displayed(), "the Re-drive button is shown")
        shot(driver, artifacts, "console-timeline.png")
        button.click()
        title = lambda: driver.find_element(By.CSS_SELECTOR, "#detail-title .status").text
        check(wait_for(lambda: title() == "failed", timeout=20) is not None,
              "after Re-drive the booking shows failed (shows %r)" % title())
        _, after = server.call("GET", "/api/v1/bookings/" + stuck_id)
        check(after["status"] == "failed", "the API says failed too")
        check(wait_for(lambda: mark_count(driver) == len(after["saga"])) is not None,
              "the timeline gained the re-drive's attempts")
        check(not driver.find_element(By.ID, "redrive").is_displayed(),
              "the Re-drive button is gone")
        shot(driver, artifacts, "console-redriven.png")
        # Live charts: the page's own requests are traffic enough.
        ok = wait_for(lambda: polyline_points(driver, "#chart-inflight polyline") >= 3
                      and polyline_points(driver, '#chart-latency polyline[data-series="p99"]') >= 2
                      and polyline_points(driver, "#chart-sagas polyline") >= 2, timeout=20)
        check(ok is not None, "the charts draw non-empty series")
        shot(driver, artifacts, "console-charts.png")
        errors = [l["message"] for l in driver.get_log("browser")
                  if l.get("level") == "SEVERE"]
        check(not errors, "no errors in the browser's console: %s" % errors[:3])
    finally:
        driver.quit()
    # A phone-sized window: everything fits the width.
    phone = browser(390, 844)
    try:
        phone.get(server.url("/ui"))
        wait_for(lambda: phone.find_elements(By.CSS_SELECTOR, "#bookings tbody tr"))
        overflow = phone.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, "the page fits a phone's width (overflow %spx)" % overflow)
        shot(phone, artifacts, "console-phone.png")
    finally:
        phone.quit()


def token_flow(server, artifacts, stuck_id):
    driver = browser(1366, 900)
    try:
        driver.get(server.url("/ui"))
        row = wait_for(lambda: driver.find_element(
            By.CSS_SELECTOR, '#bookings tbody tr[data-id="%s"]' % stuck_id))
        check(row is not None, "with an admin token set, the list still reads")
        if row is None:
            return
        row.click()
        button = wait_for(lambda: driver.find_element(By.ID, "redrive")
                          if driver.find_element(By.ID, "redrive").is_displayed() else None)
        check(button is not None, "the Re-drive button is shown")
        if button is None:
            return
        button.click()
        dialog = wait_for(lambda: driver.find_element(By.ID, "token-dialog")
                          if driver.find_element(By.ID, "token-dialog").get_attribute("open")
                          is not None else None)
        check(dialog is not None, "pressing Re-drive asks for the admin token")
        shot(driver, artifacts, "console-token.png")
        if dialog is None:
            return
        driver.find_element(By.ID, "token-input").send_keys("console-admin-secret")
        driver.find_element(By.ID, "token-ok").click()
        message = lambda: driver.find_element(By.ID, "detail-message").text
        check(wait_for(lambda: "Re-driven" in message(), timeout=20) is not None,
              "with the token the re-drive goes through (%r)" % message())
        check("secret" not in driver.current_url, "the token is not in the URL")
        stored = driver.execute_script(
            "return sessionStorage.getItem('booking-console.admin-token')")
        check(stored == "console-admin-secret", "the token is kept in session storage")
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--tours", required=True)
    parser.add_argument("--artifacts", required=True)
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="booking-ui.")
    shutil.copy(args.tours, os.path.join(work, "tours.json"))
    try:
        server = Server(args.server, work, "stuck", STUCK_FAULTS)
        try:
            stuck_id = book_stuck(server)
        finally:
            server.stop()
        # The provider recovered: the same file, without the fault.
        server = Server(args.server, work, "recovered", [])
        try:
            console_flow(server, args.artifacts, stuck_id)
        finally:
            server.stop()
        # With an admin token the page asks for it when Re-drive is pressed.
        os.remove(os.path.join(work, "booking.db"))
        env = {"BOOKING_ADMIN_TOKEN": "console-admin-secret"}
        server = Server(args.server, work, "admin", STUCK_FAULTS, env)
        try:
            token_flow(server, args.artifacts, book_stuck(server))
        finally:
            server.stop()
    finally:
        if failures:
            print("server logs kept in " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("console: %d checks failed" % len(failures))
        for f in failures:
            print("  - " + f)
        return 1
    print("console: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
