#!/usr/bin/env python3
"""An independent Qvickly Checkout server for paybridge's tests, written from Qvickly's public
facts (the Payment API envelope and hash; initCheckout, updateCheckout, getCheckout,
getOrderByHash, getPaymentinfo), not from paybridge's own simulator: if both agree with a
mistake of ours, this one still would not.

  python3 qvickly_checkout_server.py EID SECRET   → prints "listening on PORT", then serves.

The hash: HMAC-SHA512(secret, PHP json_encode(data)) — compact, '/' written '\\/', non-ASCII as
\\uXXXX (what Qvickly's own Python sample computes). Answers: {"credentials": {"hash", "logid"},
"data": …}. Test-only controls (not Qvickly's): POST /_control/complete {"hash", "status",
"total"?, "test"?} completes a checkout into a payment of its own number and answers the signed
callback Qvickly would post (its body, byte for byte); POST /_control/getcheckout {"on": bool}
(off: getCheckout answers 9001, as for an account without it, and only getOrderByHash works); POST /_control/tamper {"on": bool} signs answers with a wrong key.
"""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

EID, SECRET = sys.argv[1], sys.argv[2]
checkouts = {}   # hash -> checkout
payments = {}    # payment number -> payment
state = {"next_checkout": 7000, "next_payment": 88000, "tamper": False, "getcheckout": True}


def php_encode(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def sign(data, key=SECRET):
    return hmac.new(key.encode(), php_encode(data).encode(), hashlib.sha512).hexdigest()


def answer(data):
    key = "not-" + SECRET if state["tamper"] else SECRET
    return {"credentials": {"hash": sign(data, key), "logid": "42"}, "data": data}


def error(code, message):
    return answer({"code": str(code), "message": message, "logid": "42"})


def cart_ok(data):
    cart = data.get("Cart", {}).get("Total", {})
    rows = sum(int(a.get("withouttax", 0)) for a in data.get("Articles", []))
    n = lambda k: int(cart.get(k, 0))
    return rows == n("withouttax") and n("withouttax") + n("tax") + n("rounding") == n("withtax")


def checkout_state(hash_, c):
    order = payments.get(c.get("payment"), {})
    pd = dict(c["data"]["PaymentData"])
    pd.update({"number": c["number"], "status": c["status"],
               "order": {"number": c.get("payment", ""), "status": order.get("status", ""),
                         "orderid": pd.get("orderid", ""), "url": ""}})
    return {"PaymentData": pd, "Cart": c["data"].get("Cart"), "Customer": c["data"].get("Customer", {})}


def call(function, data, host):
    if function == "initCheckout":
        if not data.get("CheckoutData", {}).get("terms"):
            return error(50014, "Checkout: You need to provide the store terms.")
        if not cart_ok(data):
            return error(9102, "Amount does not match with calculated total")
        state["next_checkout"] += 1
        number = str(state["next_checkout"])
        hash_ = "20261204" + hashlib.md5(number.encode()).hexdigest()
        checkouts[hash_] = {"number": number, "status": "Created", "data": data}
        url = "http://%s/checkout/%s/%s/test" % (host, EID, hash_)
        return answer({"number": number, "status": "Created",
                       "orderid": data["PaymentData"]["orderid"], "url": url})
    if function == "updateCheckout":
        number = str(data.get("PaymentData", {}).get("number", ""))
        found = [(h, c) for h, c in checkouts.items() if c["number"] == number]
        if not found:
            return error(50013, "UpdateCheckout: The checkout can not be found")
        hash_, c = found[0]
        if not cart_ok(data):
            return error(9102, "Amount does not match with calculated total")
        for key in ("Articles", "Cart"):
            if key in data:
                c["data"][key] = data[key]
        if data["PaymentData"].get("orderid"):
            c["data"]["PaymentData"]["orderid"] = data["PaymentData"]["orderid"]
        url = "http://%s/checkout/%s/%s/test" % (host, EID, hash_)
        return answer({"number": number, "status": c["status"],
                       "orderid": c["data"]["PaymentData"]["orderid"], "url": url})
    if function == "getCheckout" and not state["getcheckout"]:
        return error(9001, "The method that you are calling does not exist.")
    if function in ("getCheckout", "getOrderByHash"):
        hash_ = data.get("hash") or data.get("PaymentData", {}).get("hash", "")
        if not hash_:
            return error(50015, "Checkout: Hash was empty")
        if hash_ not in checkouts:
            return error(50012, "Checkout: The checkout can not be found")
        return answer(checkout_state(hash_, checkouts[hash_]))
    if function == "getPaymentinfo":
        p = payments.get(str(data.get("number", "")))
        if p is None:
            return error(5201, "Invoice does not exist")
        return answer({"PaymentData": {"method": "8", "currency": p["currency"], "status": p["status"],
                                       "orderid": p["orderid"]},
                       "Cart": {"Total": {"withtax": str(p["total"])}}})
    return error(9001, "The method that you are calling does not exist.")


class Handler(BaseHTTPRequestHandler):
    def reply(self, body, status=200):
        # As PHP writes JSON (Qvickly's servers are PHP): compact, '/' escaped.
        out = php_encode(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.loads(raw)
        if self.path == "/_control/getcheckout":
            state["getcheckout"] = bool(body.get("on"))
            return self.reply({"getcheckout": state["getcheckout"]})
        if self.path == "/_control/tamper":
            state["tamper"] = bool(body.get("on"))
            return self.reply({"tamper": state["tamper"]})
        if self.path == "/_control/complete":
            c = checkouts[body["hash"]]
            state["next_payment"] += 1
            number = str(state["next_payment"])
            pd = c["data"]["PaymentData"]
            total = int(body.get("total", c["data"]["Cart"]["Total"]["withtax"]))
            payments[number] = {"status": body.get("status", "Paid"), "orderid": pd["orderid"],
                                "currency": pd["currency"], "total": total}
            c["payment"], c["status"] = number, body.get("status", "Paid")
            data = {"number": number, "status": payments[number]["status"], "orderid": pd["orderid"], "url": ""}
            credentials = {"hash": sign(data), "id": EID, "version": "2.2.2", "client": "Qvickly:Checkout:1.0",
                           "serverdata": [], "time": "2026-12-04 12:00:00",
                           "test": "1" if body.get("test") else "0", "language": "sv"}
            return self.reply({"credentials": credentials, "data": data})
        envelope = body
        data = envelope.get("data", {})
        if envelope.get("credentials", {}).get("id") != EID:
            return self.reply(error(9010, "Invalid credentials"))
        if not hmac.compare_digest(envelope["credentials"].get("hash", ""), sign(data)):
            return self.reply(error(9013, "Authentication failed"))
        self.reply(call(envelope.get("function"), data, self.headers.get("host")))

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print("listening on %d" % server.server_address[1], flush=True)
server.serve_forever()
