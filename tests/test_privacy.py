"""Personal data only where it is needed, end to end with the real CLI, under a folder named
`it's a "db" dir`: the analysts' database, the work database, the reports, the CSV, the outbox
and the data-quality page hold no email address, phone number or full name of the landing
zone; the private file holds them, owner-only, and only the outreach export reads it; files
are owner-only or 0640 in the shared group; a forgotten customer is gone for good, through a
full rebuild and a re-delivery; a database made before is migrated, its old bytes gone.

What must not appear is read from the landing zone's customers.csv files with Python's csv
module (conftest.landing_customers), never from the pipeline's tables.
"""
from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from conftest import cli, copy_published, landing_customers, loopback_smtp, write_drop
from fulfilment_monitor import db
from fulfilment_monitor.feeds import feed
from fulfilment_monitor.settings import private_db_for, work_db_for
from test_file_modes import mode, other_group

pytestmark = pytest.mark.slow  # the pipeline runs six times, with reports, a forget and a migration

FOLDER = 'it\'s a "db" dir'  # a path that broke ATTACH when it was spliced into SQL


# --- what must never be shown -----------------------------------------------------------------

class Secrets:
    """The names, emails and phones of a landing zone, and a finder for them in any text."""

    def __init__(self, customers: list[dict[str, str]]):
        self.emails = {c["email"] for c in customers if "@" in (c.get("email") or "")}
        self.phones = {c["phone"] for c in customers if (c.get("phone") or "").startswith("+")}
        # A full name is found by its first two words together (a first name alone is allowed).
        names = [WORD.findall(c.get("full_name") or "") for c in customers]
        self.names = {" ".join(words[:2]) for words in names if len(words) > 1}

    def found_in(self, text: str) -> set[str]:
        tokens = set(re.split(r"[\s,;:\"'<>()\[\]{}|=]+", text))
        words = WORD.findall(text)
        bigrams = {" ".join(pair) for pair in zip(words, words[1:])}
        return (tokens & self.emails) | (tokens & self.phones) | (bigrams & self.names)


WORD = re.compile(r"[^\W\d_][\w'-]*")


def database_texts(path: Path) -> dict[str, list[str]]:
    """{schema.table.column: its distinct values as text} of every column of every table and view."""
    found = {}
    with db.connect(path, read_only=True) as con:
        for schema, table, column in db.query(con, "SELECT table_schema, table_name, column_name FROM information_"
                                                   "schema.columns WHERE table_catalog = current_database()"):
            found[f"{schema}.{table}.{column}"] = [v for (v,) in db.query(
                con, f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" '
                     f'WHERE "{column}" IS NOT NULL')]
    return found


def message_texts(message: email.message.EmailMessage) -> list[str]:
    """The headers and every text part of a message (the bodies, the CSV attachment), decoded."""
    return [str(message.items())] + [part.get_content() for part in message.walk()
                                     if part.get_content_maintype() == "text"]


def saved_message(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def leaks(secrets: Secrets, texts: dict[str, list[str]]) -> dict[str, set[str]]:
    found = {}
    for where, values in texts.items():
        hits = set().union(*(secrets.found_in(v) for v in values)) if values else set()
        if hits:
            found[where] = hits
    return found


def loadable_customers(landing: Path) -> list[dict[str, str]]:
    """The landing zone's customer records a loader takes, in file order: an id, every field in
    its place, an ISO timestamp, valid UTF-8."""
    found = []
    for row in landing_customers(landing):
        try:
            dt.datetime.fromisoformat(row["updated_at"] or "")
        except ValueError:
            continue
        if row["customer_id"] and None not in row and "\ufffd" not in "".join(row.values()):
            found.append(row)
    return found


def latest_customers(landing: Path) -> dict[str, dict[str, str]]:
    """Each customer's latest record (the latest updated_at; a tie, the later file)."""
    latest = {}
    for row in loadable_customers(landing):
        stamp = dt.datetime.fromisoformat(row["updated_at"])
        if row["customer_id"] not in latest or stamp >= latest[row["customer_id"]][0]:
            latest[row["customer_id"]] = (stamp, row)
    return {k: row for k, (_, row) in latest.items()}


# --- one run of everything, under a folder named with quotes ------------------------------------

def csv_line(fields: list[str]) -> str:
    return ",".join(f'"{f}"' if "," in f else f for f in fields)


def plant_broken_customer_lines(landing: Path) -> None:
    """Four real customer records made unloadable in two drops (two each: within what the gate
    tolerates): a comma in the name left unquoted, no id, a bad timestamp, a name not in UTF-8."""
    files = sorted(landing.glob("oms/*/customers.csv"))[2:4]
    rows = list(csv.reader(files[0].read_text(encoding="utf-8").splitlines()[1:]))[:4]
    first, *_, last = rows[0][1].split()
    broken = [[",".join([rows[0][0], f"{last}, {first}", *rows[0][2:]]).encode(),
               csv_line(["", *rows[1][1:]]).encode()],
              [csv_line([*rows[2][:-1], "yesterday 3pm"]).encode(),
               csv_line([rows[3][0], "José Peña", *rows[3][2:]]).encode("latin-1")]]
    for path, lines in zip(files, broken):
        path.write_bytes(path.read_bytes() + b"\n".join(lines) + b"\n")


def landing_of(root: Path) -> Path:
    """Beside FOLDER: the landing zone's path reaches SQL through the reader, not this change."""
    return root.parent / "landing"


@pytest.fixture(scope="module")
def site(generated, tmp_path_factory):
    """(root, published, outputs, group): the generated landing zone with broken customer lines,
    run, reported (--out and --send to a real SMTP server), a story told and the export written,
    every command's database under FOLDER, with the shared group set."""
    root = tmp_path_factory.mktemp("privacy") / FOLDER
    root.mkdir()
    landing = landing_of(root)
    shutil.copytree(generated / "landing", landing)
    plant_broken_customer_lines(landing)
    published = root / "fulfilment.duckdb"
    group = other_group()
    with pytest.MonkeyPatch.context() as env, loopback_smtp() as (inbox, port):
        env.setenv("FULFILMENT_SHARED_GROUP", str(group))
        env.setenv("FULFILMENT_SMTP_HOST", "127.0.0.1")
        env.setenv("FULFILMENT_SMTP_PORT", str(port))
        outputs = {"run": cli("run", "--landing", str(landing), "--db", str(published))}
        assert outputs["run"].returncode == 0, outputs["run"].stderr
        outputs["report"] = cli("report", "--db", str(published), "--out", str(root / "reports"), "--send")
        with db.connect(published, read_only=True) as con:
            ((order_id,),) = db.query(con, "SELECT order_id FROM marts.fct_outreach_queue "
                                           "ORDER BY priority DESC, case_id LIMIT 1")
        outputs["story"] = cli("story", order_id, "--db", str(published))
        outputs["export"] = cli("export-outreach", "--db", str(published), "--out", str(root / "outreach.csv"))
    outputs["mail"] = inbox.messages
    return root, published, outputs, group


@pytest.fixture(scope="module")
def secrets(site) -> Secrets:
    return Secrets(landing_customers(landing_of(site[0])))


def test_the_whole_pipeline_runs_under_a_folder_named_with_quotes(site):
    root, published, outputs, _ = site
    for command in ("run", "report", "story", "export"):
        assert outputs[command].returncode == 0, (command, outputs[command].stderr)
    assert f"published {published}" in outputs["run"].stdout
    assert (root / "reports" / "report.html").exists() and len(outputs["mail"]) == 1
    assert "sendable case(s) exported" in outputs["export"].stdout


def test_the_scan_finds_the_names_emails_and_phones_where_they_are_kept(site, secrets):
    """The scan itself can fail: the private file holds all three kinds."""
    found = set().union(*leaks(secrets, database_texts(private_db_for(work_db_for(site[1])))).values())
    assert found & secrets.emails and found & secrets.phones and found & secrets.names


def test_no_table_report_csv_or_message_holds_a_name_email_or_phone(site, secrets):
    root, published, outputs, _ = site
    assert not leaks(secrets, database_texts(published))
    assert not leaks(secrets, database_texts(work_db_for(published)))
    files = {p.name: [p.read_text(encoding="utf-8")] for p in [
        *(root / "reports" / name for name in ("report.html", "report.txt", "outreach_queue.csv")),
        root / "validation" / "index.html"]}
    files |= {f"{p.parent.name}/{p.name}": message_texts(saved_message(p))
              for p in [root / "reports" / "report.eml", *(root / "outbox").rglob("*.eml")]}
    files["the message sent"] = message_texts(outputs["mail"][0])
    assert any("text/csv" in part.get_content_type() for part in outputs["mail"][0].walk())
    assert {"report.html", "report.txt", "outreach_queue.csv", "reports/report.eml", "index.html"} <= set(files)
    assert any(k.startswith("sent/") for k in files), files.keys()
    assert not leaks(secrets, files)
    assert not secrets.found_in(outputs["story"].stdout + outputs["run"].stdout + outputs["report"].stdout)


def test_quarantined_customer_records_keep_their_id_and_lose_their_personal_fields(site):
    with db.connect(site[1], read_only=True) as con:
        kept = db.query(con, "SELECT raw_text, reason FROM quarantine.rows WHERE file = 'customers.csv' ORDER BY 1")
    assert len(kept) == 4, kept
    for text, _ in kept:
        fields = text.split(",")
        assert all(f in ("", "***") for f in fields[1:4]), text  # full_name, email, phone (or past them)


def test_files_are_owner_only_or_0640_in_the_shared_group(site):
    root, published, _, group = site
    private = [work_db_for(published), private_db_for(work_db_for(published)), root / "outreach.csv"]
    assert {p.name: mode(p) for p in private} == {p.name: 0o600 for p in private}
    shared = [published, root / "validation" / "index.html", *(root / "reports").iterdir(),
              *(root / "outbox" / "sent").iterdir()]
    assert {p.name: (mode(p), p.stat().st_gid) for p in shared} == {p.name: (0o640, group) for p in shared}
    assert not [p for p in root.rglob("*") if p.is_file() and p.stat().st_mode & stat.S_IROTH
                and "landing" not in p.parts], "nothing the pipeline wrote is readable by every user"


def test_the_export_gives_each_sendable_case_its_channel_address_and_nothing_else(site):
    root, published, outputs, _ = site
    with open(root / "outreach.csv", newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    with db.connect(published, read_only=True) as con:
        queue = {case: (customer, channel) for case, customer, channel in db.query(
            con, "SELECT case_id, customer_id, channel FROM marts.fct_outreach_queue WHERE suppressed_reason IS NULL")}
    people = latest_customers(landing_of(root))
    expected = {case: (channel, people[customer]["email" if channel == "email" else "phone"],
                       people[customer]["full_name"].split()[0])
                for case, (customer, channel) in queue.items()
                if people[customer]["email" if channel == "email" else "phone"]}
    assert exported and list(exported[0]) == ["case_id", "channel", "address", "first_name", "send_after", "message"]
    assert {r["case_id"]: (r["channel"], r["address"], r["first_name"]) for r in exported} == expected
    assert f"{len(expected)} sendable case(s) exported" in outputs["export"].stdout


# --- forget --------------------------------------------------------------------------------------

def forgettable(published: Path, landing: Path) -> tuple[str, str, str, str]:
    """(customer_id, order_id, first name, the case's context) of a customer with an email address
    and an outreach case naming them."""
    people = latest_customers(landing)
    with db.connect(published, read_only=True) as con:
        cases = db.query(con, "SELECT customer_id, order_id, context FROM marts.fct_outreach_queue ORDER BY case_id")
    return next((c, o, people[c]["full_name"].split()[0], context) for c, o, context in cases
                if c in people and people[c]["email"] and f"{people[c]['full_name'].split()[0]} has " in context)


def rows_of(path: Path, customer: str) -> dict[str, list[str]]:
    """{schema.table.column: values as text} of one customer's rows, in every table or view with a
    customer_id."""
    found = {}
    with db.connect(path, read_only=True) as con:
        for schema, table in db.query(con, "SELECT table_schema, table_name FROM information_schema.columns "
                                           "WHERE column_name = 'customer_id' AND table_catalog = current_database()"):
            for column in [c for (c,) in db.query(con, "SELECT column_name FROM information_schema.columns WHERE "
                                                       "table_schema = ? AND table_name = ?", [schema, table])]:
                found[f"{schema}.{table}.{column}"] = [v for (v,) in db.query(
                    con, f'SELECT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" WHERE customer_id = ? '
                         f'AND "{column}" IS NOT NULL', [customer])]
    return found


def named(name: str, texts: dict[str, list[str]]) -> list[str]:
    word = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
    return [where for where, values in texts.items() if any(word.search(v) for v in values)]


def test_a_forgotten_customer_is_gone_everywhere_through_rebuilds_and_re_deliveries(site, secrets, tmp_path):
    root, shared, _, _ = site
    published = copy_published(shared, tmp_path / FOLDER)
    work, private = work_db_for(published), private_db_for(work_db_for(published))
    landing = tmp_path / "landing"
    shutil.copytree(landing_of(root), landing)
    customer, order, first, context = forgettable(published, landing)
    person = latest_customers(landing)[customer]
    mine = Secrets([c for c in landing_customers(landing) if c["customer_id"] == customer])
    exceptions = "SELECT count(*) FROM marts.fct_fulfilment_exceptions WHERE customer_id = ?"
    with db.connect(published, read_only=True) as con:
        before = db.query(con, exceptions, [customer])
    said = context.encode()  # their case's context, naming them
    assert named(first, rows_of(published, customer)), "named before"
    assert said in published.read_bytes() and person["email"].encode() in private.read_bytes(), "found before"

    forgot = cli("forget", customer, "--reason", "ticket 4711 from jane.doe@example.com", "--db", str(published))

    assert forgot.returncode == 0, forgot.stderr
    for path in (published, work):
        assert not named(first, rows_of(path, customer)) and not leaks(mine, database_texts(path)), path
        assert said not in path.read_bytes(), f"{path.name}: no free block keeps it (compacted)"
    assert not any(rows_of(private, customer).values()) and person["email"].encode() not in private.read_bytes()
    with db.connect(published, read_only=True) as con:
        assert db.query(con, exceptions, [customer]) == before, "their orders and exceptions stay"
        assert db.query(con, "SELECT customer_id, reason FROM audit.erasures") == [
            (customer, "ticket 4711 from [email]")]
    story = cli("story", order, "--db", str(published))
    assert story.returncode == 0 and not named(first, {"story": [story.stdout]})

    rebuilt = cli("run", "--landing", str(landing), "--db", str(published), "--full-refresh")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not named(first, rows_of(published, customer)), "a full rebuild brings nothing back"

    last = max(p.name for p in (landing / "oms").iterdir())
    again = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    header = ",".join(feed("oms_customers").column_names)
    write_drop(landing, "oms", again, {  # upstream delivers them again, updated
        "customers.csv": header + "\n" + ",".join(
            f'"{v}"' if "," in v else v for v in {**person, "updated_at": f"{again}T08:00:00+00:00"}.values()) + "\n",
        "orders.csv": ",".join(feed("oms_orders").column_names) + "\n",
        "order_lines.csv": ",".join(feed("oms_order_lines").column_names) + "\n"})
    reloaded = cli("run", "--landing", str(landing), "--db", str(published))
    assert reloaded.returncode == 0, reloaded.stderr
    assert f"oms/{again}" in reloaded.stdout
    assert not named(first, rows_of(published, customer)) and not leaks(mine, database_texts(published))
    assert not any(rows_of(private, customer).values()), "they are not written again"
    export = cli("export-outreach", "--db", str(published))
    assert export.returncode == 0 and not mine.found_in(export.stdout)


# --- a database made before ---------------------------------------------------------------------

def make_it_old(work: Path, private: Path) -> None:
    """What an older version left: full names, emails and phones in raw and staging (written
    uncompressed, so their bytes can be looked for), whole customer lines in quarantine. The
    values are the ones a run put in the private file, row for row."""
    with db.connect(private, read_only=True) as con:
        people = con.sql("SELECT * FROM oms_customers").arrow().read_all()
    with db.connect(work) as con:
        con.sql("SET force_compression = 'uncompressed'")
        con.register("people", people)
        for table in ("raw.oms_customers", "staging.stg_oms__customers"):
            con.sql(f"ALTER TABLE {table} DROP COLUMN first_name")
            for column in ("full_name", "email", "phone"):
                con.sql(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR")
        con.sql("""UPDATE raw.oms_customers AS r SET full_name = p.full_name, email = p.email, phone = p.phone
                   FROM people AS p WHERE p._load_id = r._load_id AND p._line_no = r._line_no""")
        con.sql("""UPDATE staging.stg_oms__customers AS s SET full_name = p.full_name, email = p.email, phone = p.phone
                   FROM (SELECT * FROM people QUALIFY row_number() OVER (
                             PARTITION BY customer_id ORDER BY CAST(updated_at AS TIMESTAMPTZ) DESC, _extract_date DESC,
                                                               _line_no DESC) = 1) AS p
                   WHERE p.customer_id = s.customer_id""")
        ((line,),) = db.query(con, "SELECT concat_ws(',', customer_id, full_name, email, phone) FROM raw.oms_customers "
                                   "LIMIT 1")
        con.execute("UPDATE quarantine.rows SET raw_text = ? WHERE file = 'customers.csv'", [line])
        con.sql("CHECKPOINT")
    os.chmod(work, 0o644)


def test_a_database_made_before_is_migrated_and_keeps_no_old_bytes(site, secrets, tmp_path):
    root, shared, _, _ = site
    published = tmp_path / "old" / "fulfilment.duckdb"
    published.parent.mkdir()
    work = work_db_for(published)
    shutil.copyfile(work_db_for(shared), work)
    make_it_old(work, private_db_for(work_db_for(shared)))
    shutil.copyfile(work, published)
    with db.connect(work, read_only=True) as con:
        ((an_email,),) = db.query(con, "SELECT min(email) FROM raw.oms_customers")
    assert an_email.encode() in work.read_bytes(), "the old bytes are there to be found"

    ran = cli("run", "--landing", str(landing_of(root)), "--db", str(published))

    assert ran.returncode == 0, ran.stderr
    assert "models rebuilt in full: stg_oms__customers not built" in ran.stdout
    for path in (work, published):
        assert not leaks(secrets, database_texts(path)), path
        assert an_email.encode() not in path.read_bytes(), f"{path.name}: compacted, no free block keeps it"
    private = private_db_for(work)
    assert (mode(work), mode(private)) == (0o600, 0o600)
    with db.connect(private, read_only=True) as con:
        moved = db.query(con, "SELECT customer_id, updated_at, full_name, email, phone FROM oms_customers")
    with db.connect(work, read_only=True) as con:
        assert db.query(con, "SELECT count(*) FROM raw.oms_customers") == [(len(moved),)]
        kept = dict(db.query(con, "SELECT customer_id || updated_at, first_name FROM raw.oms_customers"))
    given = {c["customer_id"] + c["updated_at"]: c for c in loadable_customers(landing_of(root))}
    for customer_id, updated_at, full_name, mail, phone in moved:
        row = given[customer_id + updated_at]
        assert (full_name, mail or "", phone or "") == (row["full_name"], row["email"], row["phone"])
        assert kept[customer_id + updated_at] == row["full_name"].split()[0]
