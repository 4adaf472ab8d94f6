#!/usr/bin/env python3
"""Python ftplib against the bridge: every command of the runtime issue.

Usage:
  ftplib_suite.py --list --mode MODE
  ftplib_suite.py --mode plain|explicit|implicit --host H --port P --root /folder
                  [--cafile cert.pem] [--user U --password PW] [--only CASE ...]

MODE plain uses ftplib.FTP; explicit uses ftplib.FTP_TLS (AUTH TLS) with prot_p();
implicit uses the usual FTP_TLS subclass that wraps the socket on connect, with
prot_p(). Every case prints one JSON line on stdout:
  {"case": name, "ok": bool, "detail": text, "s3": [expectations], "transcript": text}
where each S3 expectation is {"path", "sha256", "size"} or {"path", "absent": true},
for the test to check in the bucket. The transcript is ftplib's set_debuglevel(2)
output for the case.
"""

import argparse
import contextlib
import datetime
import ftplib
import hashlib
import io
import json
import random
import socket
import ssl
import sys
import time
import traceback
import zlib

TIMEOUT = 20
CASES = []  # (name, modes, function)


def case(name, modes=("plain", "explicit", "implicit")):
    def register(function):
        CASES.append((name, modes, function))
        return function
    return register


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def pseudo_random(length, seed):
    return random.Random(seed).randbytes(length)


class ImplicitFTP_TLS(ftplib.FTP_TLS):
    """The common recipe for implicit FTPS with ftplib: TLS from the first byte."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        if host:
            self.host = host
        if port:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        self.sock = socket.create_connection((self.host, self.port), self.timeout)
        self.af = self.sock.family
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


class ReuseTlsSession:
    """Mixin: data connections resume the control connection's TLS session.

    ftplib as shipped starts a fresh TLS session on every data connection; servers
    that require reuse (the bridge by default, vsftpd's require_ssl_reuse) refuse
    those with 522. This is the usual fix: pass the control socket's session on.
    """

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


class Epsv:
    """Mixin: passive transfers with EPSV (ftplib uses EPSV only for IPv6)."""

    def makepasv(self):
        host, port = ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return self.host, port


class Eprt:
    """Mixin: active transfers with EPRT (ftplib uses EPRT only for IPv6)."""

    def makeport(self):
        sock = socket.create_server(("127.0.0.1", 0), family=socket.AF_INET, backlog=1)
        port = sock.getsockname()[1]
        self.sendeprt("127.0.0.1", port)
        if self.timeout is not None:
            sock.settimeout(self.timeout)
        return sock


class Session:
    def __init__(self, options):
        self.options = options
        self.mode = options.mode
        self.root = options.root.rstrip("/")
        self.s3 = []
        self.context = None
        if self.mode != "plain":
            self.context = ssl.create_default_context(cafile=options.cafile)

    def path(self, name):
        return f"{self.root}/{name}"

    def expect_object(self, name, data):
        self.s3.append({"path": self.path(name), "sha256": sha(data), "size": len(data)})

    def expect_absent(self, name):
        self.s3.append({"path": self.path(name), "absent": True})

    def make(self, mixins=(), reuse_tls_session=True):
        base = {"plain": ftplib.FTP, "explicit": ftplib.FTP_TLS, "implicit": ImplicitFTP_TLS}[self.mode]
        if self.mode != "plain" and reuse_tls_session:
            mixins = tuple(mixins) + (ReuseTlsSession,)
        cls = type("Client", tuple(mixins) + (base,), {}) if mixins else base
        kwargs = {"timeout": TIMEOUT, "encoding": "utf-8"}
        if self.mode != "plain":
            kwargs["context"] = self.context
        ftp = cls(**kwargs)
        ftp.set_debuglevel(2)
        return ftp

    def connect(self, mixins=(), login=True):
        ftp = self.make(mixins)
        welcome = ftp.connect(self.options.host, self.options.port)
        check(welcome.startswith("220"), f"greeting should be 220: {welcome!r}")
        if login:
            resp = ftp.login(self.options.user, self.options.password)
            check(resp.startswith("230"), f"login should answer 230: {resp!r}")
            if self.mode != "plain":
                ftp.prot_p()
            ftp.cwd(self.root)
        return ftp

    def put(self, ftp, name, data):
        resp = ftp.storbinary(f"STOR {name}", io.BytesIO(data))
        check(resp.startswith("226"), f"STOR should end with 226: {resp!r}")
        return resp

    def get(self, ftp, name, rest=None):
        chunks = []
        resp = ftp.retrbinary(f"RETR {name}", chunks.append, rest=rest)
        check(resp.startswith("226"), f"RETR should end with 226: {resp!r}")
        return b"".join(chunks)


def expect_error(code_prefix, function, *args):
    try:
        resp = function(*args)
    except ftplib.all_errors as error:
        text = str(error)
        check(text.startswith(code_prefix), f"expected a {code_prefix}xx refusal, got {text!r}")
        return text
    raise Failure(f"expected a {code_prefix}xx refusal, got success {resp!r}")


# ------------------------------------------------------------------ session

@case("USER/PASS (good and bad password)")
def _(s):
    ftp = s.connect(login=False)
    try:
        expect_error("530", ftp.login, s.options.user, "wrong password")
    finally:
        ftp.close()
    ftp = s.connect()
    check(ftp.pwd() == s.root, "after login and CWD the folder is the case root")
    ftp.quit()


@case("SYST")
def _(s):
    ftp = s.connect()
    resp = ftp.sendcmd("SYST")
    check(resp.startswith("215 "), f"SYST should answer 215: {resp!r}")
    ftp.quit()


@case("FEAT")
def _(s):
    ftp = s.connect()
    resp = ftp.sendcmd("FEAT")
    check(resp.startswith("211-") and resp.rstrip().splitlines()[-1].startswith("211"), f"FEAT should be a 211 multi-line reply: {resp!r}")
    features = {line.strip().split(" ")[0].upper() for line in resp.splitlines()[1:-1]}
    for needed in ("MLST", "SIZE", "MDTM", "REST", "EPSV", "UTF8"):
        check(needed in features, f"FEAT should list {needed}: {resp!r}")
    check(any(line.strip().upper() == "REST STREAM" for line in resp.splitlines()), "FEAT should list REST STREAM")
    if s.mode == "explicit":
        for needed in ("AUTH", "PBSZ", "PROT"):
            check(needed in features, f"FEAT should list {needed}: {resp!r}")
    ftp.quit()


@case("OPTS UTF8 ON, OPTS MLST")
def _(s):
    ftp = s.connect()
    check(ftp.sendcmd("OPTS UTF8 ON").startswith("200"), "OPTS UTF8 ON should answer 200")
    resp = ftp.sendcmd("OPTS MLST type;size;")
    check(resp.startswith("200"), f"OPTS MLST should answer 200: {resp!r}")
    ftp.quit()


@case("HELP, HELP <verb>")
def _(s):
    ftp = s.connect()
    resp = ftp.sendcmd("HELP")
    check(resp.startswith("214"), f"HELP should answer 214: {resp!r}")
    check("STOR" in resp and "MLSD" in resp, f"HELP should list the commands: {resp!r}")
    resp = ftp.sendcmd("HELP STOR")
    check(resp.startswith("214"), f"HELP STOR should answer 214: {resp!r}")
    ftp.quit()


@case("STAT, STAT <path>")
def _(s):
    ftp = s.connect()
    s.put(ftp, "stat me.txt", b"12345")
    resp = ftp.sendcmd("STAT")
    check(resp.startswith("211"), f"STAT should answer 211: {resp!r}")
    resp = ftp.sendcmd("STAT stat me.txt")
    check(resp[:3] in ("211", "212", "213"), f"STAT <path> should answer 211/212/213: {resp!r}")
    check("stat me.txt" in resp and " 5 " in resp, f"STAT <path> should show the file and its size: {resp!r}")
    s.expect_object("stat me.txt", b"12345")
    ftp.quit()


@case("NOOP")
def _(s):
    ftp = s.connect()
    check(ftp.voidcmd("NOOP").startswith("200"), "NOOP should answer 200")
    ftp.quit()


@case("ACCT (502 or accepted)")
def _(s):
    ftp = s.connect()
    try:
        resp = ftp.sendcmd("ACCT billing")
        check(resp[:3] in ("202", "230"), f"ACCT: {resp!r}")
    except ftplib.error_perm as error:
        check(str(error).startswith("502"), f"ACCT should answer 502 if unsupported: {error}")
    check(ftp.voidcmd("NOOP").startswith("200"), "session still usable after ACCT")
    ftp.quit()


@case("CLNT")
def _(s):
    ftp = s.connect()
    resp = ftp.sendcmd("CLNT Python ftplib")
    check(resp.startswith("200"), f"CLNT should answer 200: {resp!r}")
    ftp.quit()


@case("REIN", modes=("plain",))
def _(s):
    ftp = s.connect()
    resp = ftp.sendcmd("REIN")
    check(resp.startswith("220"), f"REIN should answer 220: {resp!r}")
    expect_error("530", ftp.pwd)
    resp = ftp.login(s.options.user, s.options.password)
    check(resp.startswith("230"), f"login after REIN should answer 230: {resp!r}")
    check(ftp.pwd() == "/", f"after REIN the session starts over at /: {ftp.pwd()!r}")
    ftp.quit()


@case("QUIT")
def _(s):
    ftp = s.connect()
    resp = ftp.quit()
    check(resp.startswith("221"), f"QUIT should answer 221: {resp!r}")


# ------------------------------------------------------------------ types and modes

@case("TYPE A (line endings both ways), TYPE I")
def _(s):
    ftp = s.connect()
    text = "line one\nline two ünï\nlast\n"
    resp = ftp.storlines("STOR ascii.txt", io.BytesIO(text.encode("utf-8")))  # sends TYPE A, CRLF lines
    check(resp.startswith("226"), f"STOR in TYPE A: {resp!r}")
    s.expect_object("ascii.txt", text.encode("utf-8"))
    ftp.voidcmd("TYPE A")
    with ftp.transfercmd("RETR ascii.txt") as conn:
        raw = b""
        while True:
            chunk = conn.recv(8192)
            if not chunk:
                break
            raw += chunk
        if isinstance(conn, ssl.SSLSocket):
            conn.unwrap()
    check(ftp.voidresp().startswith("226"), "RETR in TYPE A ends with 226")
    check(raw == text.replace("\n", "\r\n").encode("utf-8"), f"TYPE A RETR should send CRLF: {raw!r}")
    check(ftp.voidcmd("TYPE I").startswith("200"), "TYPE I answers 200")
    check(s.get(ftp, "ascii.txt") == text.encode("utf-8"), "TYPE I RETR gives the stored LF bytes")
    ftp.quit()


@case("MODE S, STRU F, ALLO")
def _(s):
    ftp = s.connect()
    check(ftp.sendcmd("MODE S").startswith("200"), "MODE S answers 200")
    check(ftp.sendcmd("STRU F").startswith("200"), "STRU F answers 200")
    resp = ftp.sendcmd("ALLO 1000")
    check(resp[:3] in ("200", "202"), f"ALLO answers 200 or 202: {resp!r}")
    expect_error("504", ftp.sendcmd, "MODE B")
    ftp.quit()


# ------------------------------------------------------------------ folders

@case("PWD, CWD, CDUP, MKD, RMD")
def _(s):
    ftp = s.connect()
    made = ftp.mkd("dir ünï")
    check(made == f"{s.root}/dir ünï", f"MKD should return the new path: {made!r}")
    quoted = ftp.mkd('say "hi"')
    check(quoted == f'{s.root}/say "hi"', f"MKD of a name with quotes (257 doubles them): {quoted!r}")
    ftp.cwd("dir ünï")
    check(ftp.pwd() == f"{s.root}/dir ünï", f"PWD after CWD: {ftp.pwd()!r}")
    resp = ftp.sendcmd("CDUP")
    check(resp[:3] in ("200", "250"), f"CDUP answers 200/250: {resp!r}")
    check(ftp.pwd() == s.root, "PWD after CDUP")
    expect_error("550", ftp.cwd, "no such folder")
    ftp.rmd('say "hi"')
    ftp.mkd("kept")
    s.put(ftp, "kept/file.txt", b"inside")
    expect_error("550", ftp.rmd, "kept")  # not empty
    s.expect_object("kept/file.txt", b"inside")
    s.expect_object("dir ünï/", b"")
    s.expect_absent('say "hi"/')
    ftp.quit()


@case("XPWD, XCWD, XCUP, XMKD, XRMD")
def _(s):
    ftp = s.connect()
    check(ftp.sendcmd("XMKD xdir").startswith("257"), "XMKD answers 257")
    check(ftp.sendcmd("XCWD xdir").startswith("250"), "XCWD answers 250")
    check(ftplib.parse257(ftp.sendcmd("XPWD")) == f"{s.root}/xdir", "XPWD")
    check(ftp.sendcmd("XCUP")[:3] in ("200", "250"), "XCUP answers 200/250")
    check(ftp.sendcmd("XRMD xdir").startswith("250"), "XRMD answers 250")
    s.expect_absent("xdir/")
    ftp.quit()


# ------------------------------------------------------------------ transfers

@case("STOR, RETR (binary, 1 MiB)")
def _(s):
    ftp = s.connect()
    data = pseudo_random(1 << 20, 3)
    s.put(ftp, "binary.bin", data)
    check(s.get(ftp, "binary.bin") == data, "RETR returns the stored bytes")
    s.expect_object("binary.bin", data)
    ftp.quit()


@case("STOR zero bytes")
def _(s):
    ftp = s.connect()
    s.put(ftp, "empty.bin", b"")
    check(ftp.size("empty.bin") == 0, "SIZE of an empty file is 0")
    check(s.get(ftp, "empty.bin") == b"", "RETR of an empty file")
    s.expect_object("empty.bin", b"")
    ftp.quit()


@case("UTF-8 file names")
def _(s):
    ftp = s.connect()
    name = "ünïcödé 日本語 🎉.txt"
    s.put(ftp, name, b"utf8")
    check(name in ftp.nlst(), "NLST shows the UTF-8 name")
    check(s.get(ftp, name) == b"utf8", "RETR by UTF-8 name")
    s.expect_object(name, b"utf8")
    ftp.quit()


@case("LIST")
def _(s):
    ftp = s.connect()
    ftp.mkd("list")
    ftp.cwd("list")
    s.put(ftp, "a file.txt", b"x" * 321)
    ftp.mkd("sub")
    lines = []
    ftp.dir(lines.append)
    file_line = [line for line in lines if line.endswith(" a file.txt")]
    check(len(file_line) == 1, f"LIST should show 'a file.txt': {lines!r}")
    fields = file_line[0].split(None, 8)
    check(len(fields) == 9 and fields[0].startswith("-") and fields[4] == "321", f"LIST line in ls -l form with size: {file_line[0]!r}")
    check(any(line.startswith("d") and line.endswith(" sub") for line in lines), f"LIST should show 'sub' as a folder: {lines!r}")
    check(not any(" 1970 " in line for line in lines), f"no LIST line is dated 1970: {lines!r}")
    s.expect_object("list/a file.txt", b"x" * 321)
    ftp.quit()


@case("NLST")
def _(s):
    ftp = s.connect()
    ftp.mkd("nlst")
    s.put(ftp, "nlst/one.txt", b"1")
    s.put(ftp, "nlst/two.txt", b"2")
    ftp.mkd("nlst/three")
    names = sorted(ftp.nlst("nlst"))
    check(names in (["one.txt", "three", "two.txt"], ["nlst/one.txt", "nlst/three", "nlst/two.txt"]), f"NLST names: {names!r}")
    ftp.cwd("nlst")
    check(sorted(ftp.nlst()) == ["one.txt", "three", "two.txt"], "NLST of the current folder")
    ftp.quit()


@case("MLSD")
def _(s):
    ftp = s.connect()
    ftp.mkd("mlsd")
    s.put(ftp, "mlsd/f.bin", b"y" * 4097)
    ftp.mkd("mlsd/d")
    entries = {name: facts for name, facts in ftp.mlsd("mlsd", facts=["type", "size", "modify", "perm"])}
    entries = {name: facts for name, facts in entries.items() if facts.get("type") not in ("cdir", "pdir")}
    check(set(entries) == {"f.bin", "d"}, f"MLSD entries: {entries!r}")
    check(entries["f.bin"]["type"] == "file" and entries["f.bin"]["size"] == "4097", f"MLSD file facts: {entries['f.bin']!r}")
    check(len(entries["f.bin"].get("modify", "")) >= 14, f"MLSD modify fact YYYYMMDDHHMMSS: {entries['f.bin']!r}")
    check("r" in entries["f.bin"].get("perm", ""), f"MLSD perm fact: {entries['f.bin']!r}")
    check(entries["d"]["type"] == "dir", f"MLSD dir facts: {entries['d']!r}")
    check(not entries["d"].get("modify", "").startswith("1970"), f"no folder is dated 1970: {entries['d']!r}")
    ftp.quit()


@case("MLST")
def _(s):
    ftp = s.connect()
    s.put(ftp, "mlst.bin", b"z" * 77)
    resp = ftp.sendcmd("MLST mlst.bin")
    lines = resp.splitlines()
    check(lines[0].startswith("250-") and lines[-1].startswith("250"), f"MLST is a 250 multi-line reply: {resp!r}")
    facts_line = lines[1]
    check(facts_line.startswith(" "), f"MLST facts line starts with a space: {facts_line!r}")
    facts = dict(part.split("=", 1) for part in facts_line.strip().split(" ", 1)[0].split(";") if "=" in part)
    check(facts.get("type") == "file" and facts.get("size") == "77", f"MLST facts: {facts!r}")
    ftp.quit()


@case("SIZE")
def _(s):
    ftp = s.connect()
    s.put(ftp, "size.bin", b"s" * 123456)
    ftp.voidcmd("TYPE I")
    check(ftp.size("size.bin") == 123456, "SIZE in TYPE I")
    expect_error("550", ftp.size, "missing.bin")
    ftp.quit()


@case("MDTM")
def _(s):
    ftp = s.connect()
    s.put(ftp, "mdtm.bin", b"m")
    resp = ftp.sendcmd("MDTM mdtm.bin")
    check(resp.startswith("213 "), f"MDTM answers 213: {resp!r}")
    stamp = datetime.datetime.strptime(resp[4:18], "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    delta = abs((datetime.datetime.now(datetime.timezone.utc) - stamp).total_seconds())
    check(delta < 600, f"MDTM is the upload time in UTC (off by {delta:.0f} s): {resp!r}")
    expect_error("550", ftp.sendcmd, "MDTM missing.bin")
    ftp.quit()


@case("REST + RETR")
def _(s):
    ftp = s.connect()
    data = pseudo_random(300_000, 5)
    s.put(ftp, "rest.bin", data)
    check(s.get(ftp, "rest.bin", rest=123_457) == data[123_457:], "RETR after REST returns the tail")
    ftp.quit()


@case("REST + STOR (resume upload)")
def _(s):
    ftp = s.connect()
    data = pseudo_random(400_000, 6)
    half = 150_001
    s.put(ftp, "resume.bin", data[:half])
    ftp.voidcmd("TYPE I")
    check(ftp.size("resume.bin") == half, "SIZE of the first part")
    stream = io.BytesIO(data)
    stream.seek(half)
    resp = ftp.storbinary("STOR resume.bin", stream, rest=half)
    check(resp.startswith("226"), f"REST + STOR ends with 226: {resp!r}")
    check(s.get(ftp, "resume.bin") == data, "the resumed file is complete")
    s.expect_object("resume.bin", data)
    ftp.quit()


@case("APPE")
def _(s):
    ftp = s.connect()
    first, second = pseudo_random(70_000, 7), pseudo_random(50_000, 8)
    resp = ftp.storbinary("APPE appe.bin", io.BytesIO(first))  # creates the file
    check(resp.startswith("226"), f"APPE to a new file: {resp!r}")
    resp = ftp.storbinary("APPE appe.bin", io.BytesIO(second))
    check(resp.startswith("226"), f"APPE to an existing file: {resp!r}")
    check(s.get(ftp, "appe.bin") == first + second, "APPE appends")
    s.expect_object("appe.bin", first + second)
    ftp.quit()


@case("STOU")
def _(s):
    ftp = s.connect()
    ftp.mkd("stou")
    ftp.cwd("stou")
    s.put(ftp, "taken.txt", b"already here")
    before = set(ftp.nlst())
    data = b"unique content"
    resp = ftp.storbinary("STOU", io.BytesIO(data))
    check(resp.startswith("226") or resp.startswith("250"), f"STOU ends with 226/250: {resp!r}")
    created = set(ftp.nlst()) - before
    check(len(created) == 1, f"STOU should create exactly one new file: {created!r}")
    name = created.pop()
    check(s.get(ftp, name) == data, "the STOU file holds the data")
    s.expect_object(f"stou/{name}", data)
    s.expect_object("stou/taken.txt", b"already here")
    ftp.quit()


@case("RNFR/RNTO (file and folder)")
def _(s):
    ftp = s.connect()
    s.put(ftp, "old name.txt", b"renamed")
    resp = ftp.rename("old name.txt", "new ünï.txt")
    check(resp.startswith("250"), f"RNTO answers 250: {resp!r}")
    ftp.mkd("folder a")
    s.put(ftp, "folder a/inside.txt", b"in folder")
    ftp.rename("folder a", "folder b")
    check(s.get(ftp, "folder b/inside.txt") == b"in folder", "file follows its renamed folder")
    expect_error("550", ftp.rename, "no such.txt", "x.txt")
    s.expect_object("new ünï.txt", b"renamed")
    s.expect_absent("old name.txt")
    s.expect_object("folder b/inside.txt", b"in folder")
    s.expect_absent("folder a/inside.txt")
    ftp.quit()


@case("DELE")
def _(s):
    ftp = s.connect()
    s.put(ftp, "delete me.txt", b"bye")
    resp = ftp.delete("delete me.txt")
    check(resp.startswith("250"), f"DELE answers 250: {resp!r}")
    expect_error("550", ftp.delete, "delete me.txt")
    expect_error("550", ftp.retrbinary, "RETR delete me.txt", lambda _: None)
    s.expect_absent("delete me.txt")
    ftp.quit()


# ------------------------------------------------------------------ checksums and times

@case("HASH, XSHA256, XCRC verify an upload")
def _(s):
    ftp = s.connect()
    data = pseudo_random(200_000, 11)
    s.put(ftp, "hashed.bin", data)
    features = ftp.sendcmd("FEAT")
    check("HASH SHA-256*;" in features, f"FEAT offers HASH with SHA-256 selected: {features!r}")
    resp = ftp.sendcmd("HASH hashed.bin")
    code, algorithm, span, value, name = resp.split(" ", 4)
    check((code, algorithm, span, name) == ("213", "SHA-256", f"0-{len(data)}", "hashed.bin"), f"HASH reply: {resp!r}")
    check(value == hashlib.sha256(data).hexdigest(), f"HASH is the SHA-256 of the upload: {resp!r}")
    check(ftp.sendcmd("OPTS HASH SHA-1") == "200 SHA-1", "OPTS HASH SHA-1")
    check(ftp.sendcmd("HASH hashed.bin").split(" ")[3] == hashlib.sha1(data).hexdigest(), "HASH after OPTS HASH SHA-1")
    check(ftp.sendcmd("XSHA256 hashed.bin") == f"250 {hashlib.sha256(data).hexdigest().upper()}", "XSHA256")
    crc = f"{zlib.crc32(data[100:5000]) & 0xffffffff:08X}"
    check(ftp.sendcmd("XCRC hashed.bin 100 5000") == f"250 {crc}", "XCRC of a range")
    s.expect_object("hashed.bin", data)
    ftp.quit()


@case("MFMT, then MDTM and MLSD report the time")
def _(s):
    ftp = s.connect()
    s.put(ftp, "timed.txt", b"t")
    resp = ftp.sendcmd("MFMT 20200229235959 timed.txt")
    check(resp == "213 Modify=20200229235959; timed.txt", f"MFMT reply: {resp!r}")
    check(ftp.sendcmd("MDTM timed.txt") == "213 20200229235959", "MDTM reports the time MFMT set")
    facts = {name: facts for name, facts in ftp.mlsd(".", facts=["modify"])}
    check(facts.get("timed.txt", {}).get("modify") == "20200229235959", f"MLSD modify: {facts.get('timed.txt')!r}")
    ftp.quit()


# ------------------------------------------------------------------ data connections

@case("PASV")
def _(s):
    ftp = s.connect()
    data = pseudo_random(200_000, 9)
    s.put(ftp, "pasv.bin", data)  # ftplib uses PASV over IPv4
    check(s.get(ftp, "pasv.bin") == data, "RETR over PASV")
    s.expect_object("pasv.bin", data)
    ftp.quit()


@case("EPSV")
def _(s):
    ftp = s.connect(mixins=(Epsv,))
    data = pseudo_random(200_000, 10)
    s.put(ftp, "epsv.bin", data)
    check(s.get(ftp, "epsv.bin") == data, "RETR over EPSV")
    s.expect_object("epsv.bin", data)
    ftp.quit()


@case("EPSV ALL")
def _(s):
    ftp = s.connect(mixins=(Epsv,))
    check(ftp.sendcmd("EPSV ALL").startswith("200"), "EPSV ALL answers 200")
    try:
        resp = ftp.sendcmd("PASV")
        raise Failure(f"PASV after EPSV ALL should be refused: {resp!r}")
    except ftplib.error_perm as error:
        check(str(error)[:1] == "5", f"PASV after EPSV ALL is refused: {error}")
    data = b"still works over EPSV"
    s.put(ftp, "epsv all.txt", data)
    check(s.get(ftp, "epsv all.txt") == data, "EPSV still works")
    s.expect_object("epsv all.txt", data)
    ftp.quit()


@case("PORT (active mode)")
def _(s):
    ftp = s.connect()
    ftp.set_pasv(False)
    data = pseudo_random(150_000, 11)
    s.put(ftp, "port.bin", data)
    check(s.get(ftp, "port.bin") == data, "RETR over PORT")
    s.expect_object("port.bin", data)
    ftp.quit()


@case("EPRT (active mode)")
def _(s):
    ftp = s.connect(mixins=(Eprt,))
    ftp.set_pasv(False)
    data = pseudo_random(150_000, 12)
    s.put(ftp, "eprt.bin", data)
    check(s.get(ftp, "eprt.bin") == data, "RETR over EPRT")
    s.expect_object("eprt.bin", data)
    ftp.quit()


@case("ABOR during a download")
def _(s):
    ftp = s.connect()
    data = pseudo_random(12 << 20, 13)
    s.put(ftp, "big.bin", data)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    received = 0
    while received < 256 * 1024:
        chunk = conn.recv(65536)
        check(chunk, "data connection closed too early")
        received += len(chunk)
    first = ftp.abort()  # ftplib reads one reply: 426 (transfer aborted)
    check(first[:3] in ("426", "225", "226"), f"ABOR first reply: {first!r}")
    conn.close()
    if first.startswith("426"):
        second = ftp.voidresp()  # then 226 for the ABOR itself
        check(second.startswith("226"), f"after 426 the server sends 226: {second!r}")
    check(ftp.voidcmd("NOOP").startswith("200"), "the control connection works after ABOR")
    check(s.get(ftp, "big.bin", rest=len(data) - 1000) == data[-1000:], "transfers work after ABOR")
    resp = ftp.sendcmd("ABOR")  # no transfer in progress
    check(resp[:3] in ("225", "226"), f"ABOR with no transfer answers 225/226: {resp!r}")
    s.expect_object("big.bin", data)
    ftp.quit()


# ------------------------------------------------------------------ security

@case("AUTH TLS, PBSZ, PROT P and PROT C", modes=("explicit",))
def _(s):
    ftp = s.connect()
    check(isinstance(ftp.sock, ssl.SSLSocket), "the control connection is TLS after AUTH TLS")
    data = b"over PROT P"
    s.put(ftp, "prot p.txt", data)
    resp = ftp.prot_c()
    check(resp.startswith("200"), f"PROT C answers 200: {resp!r}")
    check(s.get(ftp, "prot p.txt") == data, "RETR over a clear data connection")
    ftp.prot_p()
    check(s.get(ftp, "prot p.txt") == data, "RETR over a protected data connection")
    s.expect_object("prot p.txt", data)
    ftp.quit()


@case("PBSZ, PROT P and PROT C", modes=("implicit",))
def _(s):
    ftp = s.connect()
    data = b"implicit PROT P"
    s.put(ftp, "prot p.txt", data)
    ftp.prot_c()
    check(s.get(ftp, "prot p.txt") == data, "RETR over a clear data connection")
    ftp.prot_p()
    check(s.get(ftp, "prot p.txt") == data, "RETR over a protected data connection")
    s.expect_object("prot p.txt", data)
    ftp.quit()


@case("ftplib as shipped (no TLS session reuse): 522", modes=("explicit", "implicit"))
def _(s):
    ftp = s.make(reuse_tls_session=False)
    ftp.connect(s.options.host, s.options.port)
    ftp.login(s.options.user, s.options.password)
    ftp.prot_p()
    ftp.cwd(s.root)
    error = expect_error("522", ftp.storbinary, "STOR fresh-session.bin", io.BytesIO(b"fresh TLS session"))
    check("session reuse" in error, f"the 522 says why: {error!r}")
    check(ftp.voidcmd("NOOP").startswith("200"), "the session goes on after the refusal")
    s.expect_absent("fresh-session.bin")
    ftp.quit()


@case("AUTH SSL", modes=("explicit",))
def _(s):
    ftp = s.make()
    ftp.connect(s.options.host, s.options.port)
    resp = ftp.sendcmd("AUTH SSL")
    check(resp.startswith("234"), f"AUTH SSL answers 234: {resp!r}")
    ftp.sock = s.context.wrap_socket(ftp.sock, server_hostname=ftp.host)
    ftp.file = ftp.sock.makefile("r", encoding=ftp.encoding)
    resp = ftp.login(s.options.user, s.options.password)
    check(resp.startswith("230"), f"login after AUTH SSL: {resp!r}")
    ftp.prot_p()
    ftp.cwd(s.root)
    ftp.nlst()
    ftp.quit()


@case("CCC (534 or accepted)", modes=("explicit", "implicit"))
def _(s):
    ftp = s.connect()
    try:
        resp = ftp.sendcmd("CCC")
        raise Failure(f"CCC accepted ({resp!r}): this suite expects the refusal the issue allows")
    except ftplib.error_perm as error:
        check(str(error).startswith("534"), f"CCC should be refused with 534: {error}")
    check(ftp.voidcmd("NOOP").startswith("200"), "session still usable over TLS after CCC refusal")
    ftp.quit()


# ------------------------------------------------------------------ runner

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--mode", required=True, choices=["plain", "explicit", "implicit"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--root", default="/ftplib")
    parser.add_argument("--cafile")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="wonderland")
    parser.add_argument("--only", nargs="*")
    options = parser.parse_args()
    selected = [(name, function) for name, modes, function in CASES if options.mode in modes]
    if options.list:
        print(json.dumps([name for name, _ in selected]))
        return
    if options.only:
        selected = [(name, function) for name, function in selected if name in options.only]

    # The case root, made once per run.
    with contextlib.redirect_stdout(sys.stderr):
        setup = Session(options)
        ftp = setup.connect(login=False)
        ftp.login(options.user, options.password)
        if options.mode != "plain":
            ftp.prot_p()
        try:
            ftp.mkd(options.root)
        except ftplib.error_perm:
            pass
        ftp.quit()

    out = sys.stdout
    for name, function in selected:
        session = Session(options)
        session.root = f"{options.root.rstrip('/')}/{''.join(c if c.isalnum() else '-' for c in name.lower())[:40]}"
        buffer = io.StringIO()
        started = time.time()
        ok, detail = True, ""
        with contextlib.redirect_stdout(buffer):
            try:
                maker = session.make()
                maker.connect(options.host, options.port)
                maker.login(options.user, options.password)
                if options.mode != "plain":
                    maker.prot_p()
                maker.mkd(session.root)
                maker.quit()
                function(session)
            except Exception as error:  # every failure is a case failure, reported
                ok = False
                detail = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}"
        out.write(json.dumps({
            "case": name,
            "ok": ok,
            "detail": detail,
            "ms": int((time.time() - started) * 1000),
            "s3": session.s3 if ok else [],
            "transcript": buffer.getvalue()[-8000:],
        }, ensure_ascii=False) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
