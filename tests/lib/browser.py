#!/usr/bin/python3
"""browser.py - drive a headless Chromium (chromium-driver, python3-selenium)

  browser.py unsub URL DIR   open the unsubscribe page at URL, save DIR/page.png,
                             press the button, save DIR/done.png; prints the
                             title and text of each page ("TITLE ...", "TEXT ...")
  browser.py follow URL      open URL, print where the browser ends ("URL ...")
                             and the title there

Exit status 0, or 1 with the reason on stderr.  Chromium runs as the test's user
(root: --no-sandbox) with a profile of its own under $HOME.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def start():
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-background-networking", "--window-size=800,600",
              "--user-data-dir=" + os.path.join(os.environ.get("HOME", "/tmp"), "chromium")):
        o.add_argument(a)
    log = os.path.join(os.environ.get("HOME", "/tmp"), "chromedriver.log")
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_path=log), options=o)
    d.set_page_load_timeout(30)
    return d


def show(d):
    print("TITLE", d.title)
    print("TEXT", d.find_element(By.TAG_NAME, "body").text.replace("\n", " | "))


def unsub(d, url, out):
    d.get(url)
    show(d)
    d.save_screenshot(os.path.join(out, "page.png"))
    # the button as a person finds it: by its visible name
    d.find_element(By.XPATH, "//button[normalize-space()='Unsubscribe']").click()
    WebDriverWait(d, 20).until(lambda d: "unsubscribed" in d.title.lower()
                               or "again" in d.title.lower())
    show(d)
    d.save_screenshot(os.path.join(out, "done.png"))


def follow(d, url):
    d.get(url)
    print("URL", d.current_url)
    print("TITLE", d.title)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("unsub", "follow"):
        sys.stderr.write(__doc__)
        return 2
    d = start()
    try:
        if sys.argv[1] == "unsub":
            unsub(d, sys.argv[2], sys.argv[3])
        else:
            follow(d, sys.argv[2])
    finally:
        d.quit()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a failure is a test result, not a traceback
        sys.stderr.write("browser.py: %s: %s\n" % (type(e).__name__, e))
        sys.exit(1)
