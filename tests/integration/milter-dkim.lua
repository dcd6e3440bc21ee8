-- milter-dkim.lua - the DKIM milter conversation, driven by miltertest
-- (run by milter-dkim.sh: miltertest -D FILTER=... -D CONF=... -D SOCK=... -s milter-dkim.lua)
-- Prints TAP lines; exits 1 (error) on the first failure.
local sock = "unix:" .. SOCK
local n = 0

local function ok(cond, what)
  n = n + 1
  if cond then
    mt.echo("ok " .. n .. " - " .. what)
  else
    mt.echo("not ok " .. n .. " - " .. what)
    error(what)
  end
end

mt.startfilter(FILTER, "-f", "-c", CONF)
local conn = mt.connect(sock, 40, 0.25)
ok(conn ~= nil, "miltertest connects to outpost-milter")

-- negotiation: only the events used, no replies where nothing is decided
ok(mt.test_option(conn, SMFIP_NOHELO), "negotiates HELO away")
ok(mt.test_option(conn, SMFIP_NOUNKNOWN) and mt.test_option(conn, SMFIP_NODATA),
   "negotiates unknown commands and DATA away")
ok(mt.test_option(conn, SMFIP_NR_HDR) and mt.test_option(conn, SMFIP_NR_BODY)
   and mt.test_option(conn, SMFIP_NR_EOH), "asks for no reply to headers, end of header, body")
ok(mt.test_option(conn, SMFIP_HDR_LEADSPC), "asks for header values with their leading space")
ok(mt.test_action(conn, SMFIF_ADDHDRS), "asks only to add headers")

-- one message; returns the eom reply
local function message(conn, qid, from, auth)
  mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", auth or "")
  mt.mailfrom(conn, "<bounce@" .. "example.com>")
  mt.header(conn, "From", " Alice <" .. from .. ">")
  mt.header(conn, "To", " bob@example.net")
  mt.header(conn, "Subject", " folded\n\tsubject")
  mt.header(conn, "List-Unsubscribe", " <https://example.com/u>")
  mt.eoh(conn)
  mt.bodystring(conn, "hello\r\n")
  mt.eom(conn)
  return mt.getreply(conn)
end

local function sig(conn, i)
  return mt.getheader(conn, "DKIM-Signature", i)
end

-- 1. a client in sign_networks, a domain with RSA and Ed25519 keys
mt.conninfo(conn, "client.example", "127.0.0.1")
ok(message(conn, "Q1", "alice@example.com") == SMFIR_CONTINUE, "signed message continues")
ok(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "DKIM-Signature inserted (smfi_insheader)")
local s0, s1 = sig(conn, 0), sig(conn, 1)
ok(s0 ~= nil and s1 ~= nil and sig(conn, 2) == nil, "exactly two signatures")
ok(string.find(s0 .. s1, "a=rsa%-sha256") and string.find(s0 .. s1, "a=ed25519%-sha256"),
   "one RSA, one Ed25519 (RFC 8463)")
ok(string.find(s0, "d=example.com;", 1, true) and string.sub(s0, 1, 1) == " ",
   "d= is the From: domain; value keeps its leading space")

-- 2. same connection: an aborted message leaves nothing behind
mt.macro(conn, SMFIC_MAIL, "i", "Q2")
mt.mailfrom(conn, "<x@example.com>")
mt.header(conn, "From", " x@example.com")
mt.abort(conn)
ok(message(conn, "Q3", "carol@news.example.com") == SMFIR_CONTINUE, "message after an abort")
s0 = sig(conn, 0)
ok(s0 ~= nil and sig(conn, 2) == nil, "signed again, twice, nothing left from the aborted one")
ok(string.find(s0, "d=example.com;", 1, true), "subdomain sender signed with the parent's key")

-- 3. a domain without a key: not signed, still delivered
ok(message(conn, "Q4", "dave@nokey.example") == SMFIR_CONTINUE, "no key: message continues")
ok(sig(conn, 0) == nil, "no key: no signature")
mt.disconnect(conn)

-- 4. a client outside sign_networks, not authenticated: never signed
conn = mt.connect(sock, 40, 0.25)
mt.conninfo(conn, "stranger.example", "192.0.2.1")
ok(message(conn, "Q5", "alice@example.com") == SMFIR_CONTINUE, "unauthorised client: continues")
ok(sig(conn, 0) == nil, "unauthorised client: not signed")

-- 5. the same client authenticated as tenant1 (allowed example.com) and tenant2 (not)
ok(message(conn, "Q6", "alice@example.com", "tenant1") == SMFIR_CONTINUE and sig(conn, 0) ~= nil,
   "SASL user signs for its own domain")
ok(message(conn, "Q7", "alice@example.com", "tenant2") == SMFIR_CONTINUE and sig(conn, 0) == nil,
   "SASL user cannot sign for another tenant's domain")
mt.disconnect(conn)
mt.echo("1.." .. n)
