#!/usr/bin/python3
"""campaign.py - send a sample marketing campaign through an SMTP relay.

usage: campaign.py HOST PORT RECIPIENTS-FILE RESULTS-FILE

One message per recipient, as bulk senders do, each with the headers a
marketer's platform adds (List-Unsubscribe, List-Unsubscribe-Post,
Feedback-ID).  Writes one line per recipient to RESULTS-FILE:
recipient<TAB>accepted|rejected|deferred<TAB>smtp reply.
"""
import smtplib
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def message(sender, rcpt, n):
    msg = EmailMessage()
    msg["From"] = "Shop Newsletter <%s>" % sender
    msg["To"] = rcpt
    msg["Subject"] = "Winter sale: 20%% off everything (#%d)" % n
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    msg["List-Unsubscribe"] = "<mailto:unsub@bounces.shop.test?subject=%s>, " \
        "<https://shop.test/u/%d>" % (rcpt, n)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Feedback-ID"] = "winter-sale:newsletter:shop"
    msg.set_content("Dear customer,\n\nour winter sale starts today. "
                    "Everything is 20%% off until Sunday.\n\n"
                    "-- \nShop, 1 Example Street\n"
                    "Unsubscribe: https://shop.test/u/%d\n" % n)
    return msg


def main():
    host, port, rcpt_file, out_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    recipients = [l.split()[0] for l in open(rcpt_file) if l.strip() and not l.startswith("#")]
    sender = "news@shop.test"
    smtp = smtplib.SMTP(host, port, local_hostname="platform.shop.test", timeout=60)
    with open(out_file, "w") as out:
        for n, rcpt in enumerate(recipients, 1):
            try:
                smtp.send_message(message(sender, rcpt, n), sender, [rcpt])
                out.write("%s\taccepted\t250\n" % rcpt)
            except smtplib.SMTPRecipientsRefused as e:
                code, text = e.recipients[rcpt]
                kind = "rejected" if code >= 500 else "deferred"
                out.write("%s\t%s\t%d %s\n" % (rcpt, kind, code, text.decode(errors="replace")))
            except smtplib.SMTPResponseException as e:
                kind = "rejected" if e.smtp_code >= 500 else "deferred"
                out.write("%s\t%s\t%d %s\n" % (rcpt, kind, e.smtp_code,
                                               e.smtp_error.decode(errors="replace")))
                smtp.rset()
    smtp.quit()


if __name__ == "__main__":
    main()
