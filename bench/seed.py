"""Seed the bench stack's database through the app's own models (runs in the web container).

    docker compose exec -T -e BENCH_PASSWORD=... web python /bench/seed.py

Creates three users with a fixed random seed, so every run has the same data:
- small@bench.test with 1,000 notes,
- large@bench.test with 100,000 notes,
- writer@bench.test with 10 notes (api_create adds to it, so the other two
  keep their sizes however long the run),
- importer@bench.test with none (the transfer measurement imports the large
  user's export into it),
each with 40 tags (0-3 per note), about 1 % pinned, 5 % archived and 2 % in
the trash, updated_at spread over two years. Notes have 30-150 words of
English-like text; the word COMMON_WORD is in about 20 % of notes and
RARE_WORD in about 0.1 %, for search_common and search_rare.

Users, tags and tokens go through the app's models and services
(``create_token``); the 100,000 notes go through SQLAlchemy's bulk INSERT on
the ``Note`` model (insertmanyvalues, in batches), not one ORM object each.
Prints one JSON object: the users' token secrets and a few note ids.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.getcwd())  # the web image's /app

import sqlalchemy as sa

from app import create_app
from app.accounts.passwords import hash_password
from app.accounts.tokens import create_token
from app.models import Note, Tag, User, db, note_tags
from app.notes.models import excerpt_columns
from app.notes.rules import tag_key

SEED = 20260601
COMMON_WORD = "project"
RARE_WORD = "quasar"
COMMON_SHARE = 0.20
RARE_SHARE = 0.001
BATCH = 2000

# Everyday note vocabulary (neither COMMON_WORD nor RARE_WORD), drawn with
# Zipf-like weights so that a few words are frequent and most are not.
WORDS = """
the to and a of in for is on that with this it be as at by from we will are have not or but call
email team week today tomorrow monday tuesday friday plan list idea ideas buy groceries milk bread
eggs coffee tea book read chapter notes draft review update fix bug release deploy server client
budget invoice payment rent travel flight hotel train ticket passport visa doctor dentist
appointment birthday gift party dinner lunch recipe garden water plants paint kitchen repair car
insurance tax return bank account password backup laptop phone charger cable printer paper office
desk chair meeting agenda minutes action items follow up deadline schedule calendar reminder call
mom dad sister brother friend neighbour school homework exam course lecture slides summary question
answer research paper article blog post podcast episode movie series music album concert tickets run
walk gym yoga swim bike hike trail mountain lake beach weekend holiday vacation camping tent stove
map route weather rain sun snow wind cold warm jacket shoes socks laundry clean vacuum dishes trash
recycle compost seeds tomatoes basil soil fertilizer harvest apples pears bake cake cookies flour
sugar butter salt pepper onions garlic rice pasta sauce cheese salad soup chicken fish beans
interview resume cover letter salary contract hire onboarding training goals quarter roadmap feature
design sketch prototype feedback user test survey data report chart numbers spreadsheet formula
query database index cache latency throughput memory disk network router wifi firmware upgrade
install configure script shell python notebook experiment result hypothesis sample measure compare
analysis conclusion next steps open questions risks blockers owner status done pending waiting
started finished cancelled maybe later soon urgent important small large quick
""".split()  # noqa: SIM905 - a word list reads best as prose

TAG_NAMES = [
    "work", "home", "personal", "ideas", "reading", "recipes", "travel", "health", "finance", "shopping",
    "errands", "family", "friends", "garden", "books", "movies", "music", "fitness", "learning", "writing",
    "research", "meetings", "backlog", "someday", "urgent", "archive-me", "car", "house", "taxes", "kids",
    "school", "cooking", "hiking", "photos", "gifts", "events", "projects-old", "journal", "quotes", "links",
]  # fmt: skip


def _weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) for rank in range(n)]


class TextMaker:
    """English-like note titles and bodies from a fixed seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.weights = _weights(len(WORDS))

    def words(self, n: int) -> list[str]:
        return self.rng.choices(WORDS, weights=self.weights, k=n)

    def note(self) -> tuple[str, str]:
        rng = self.rng
        title = " ".join(self.words(rng.randint(2, 7))).capitalize()
        body_words = self.words(rng.randint(30, 150))
        for word, share in ((COMMON_WORD, COMMON_SHARE), (RARE_WORD, RARE_SHARE)):
            if rng.random() < share:
                body_words.insert(rng.randrange(len(body_words) + 1), word)
        # Sentences of 6-14 words, a paragraph break now and then, a task list sometimes.
        out, i = [], 0
        while i < len(body_words):
            n = rng.randint(6, 14)
            out.append(" ".join(body_words[i : i + n]).capitalize() + ".")
            out.append("\n\n" if rng.random() < 0.2 else " ")
            i += n
        content = "".join(out).strip()
        if rng.random() < 0.1:
            content += "\n\n" + "\n".join(f"- [{rng.choice(' x')}] {' '.join(self.words(3))}" for _ in range(3))
        return title, content


def seed_user(email: str, password_hash: str, n_notes: int, rng: random.Random, now: datetime) -> dict[str, object]:
    """One user with ``n_notes`` notes and tags; returns its token secrets and some note ids."""
    user = User(email=email, password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    tags = [Tag(owner_id=user.id, name=name, name_key=tag_key(name)) for name in TAG_NAMES]
    db.session.add_all(tags)
    db.session.commit()
    tag_ids = [tag.id for tag in tags]
    maker = TextMaker(rng)
    two_years = 2 * 365 * 24 * 3600
    note_ids: list[int] = []
    for start in range(0, n_notes, BATCH):
        rows = []
        for _ in range(min(BATCH, n_notes - start)):
            title, content = maker.note()
            updated = now - timedelta(seconds=rng.randrange(two_years))
            created = updated - timedelta(seconds=rng.randrange(30 * 24 * 3600))
            roll = rng.random()
            rows.append(
                {
                    "owner_id": user.id,
                    "title": title[:200],
                    "content": content,
                    # As the app stores it on every write (a bulk INSERT passes the validator by).
                    **excerpt_columns(content),
                    "pinned": roll < 0.01,
                    "archived": 0.01 <= roll < 0.06,
                    "deleted_at": updated if 0.06 <= roll < 0.08 else None,
                    "created_at": created,
                    "updated_at": updated,
                    "version": 1,
                }
            )
        ids = list(db.session.scalars(sa.insert(Note).returning(Note.id), rows))
        links = [
            {"note_id": note_id, "tag_id": tag_id}
            for note_id in ids
            for tag_id in rng.sample(tag_ids, rng.choice((0, 1, 1, 2, 2, 3)))
        ]
        if links:
            db.session.execute(sa.insert(note_tags), links)
        db.session.commit()
        note_ids.extend(ids)
    _, secret = create_token(user, "bench", "write")
    return {"email": email, "token": secret, "notes": n_notes, "note_ids": rng.sample(note_ids, min(50, len(note_ids)))}


def main() -> None:
    password = os.environ["BENCH_PASSWORD"]
    rng = random.Random(SEED)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
            sys.exit("seed: the database already has users; the bench seeds a fresh stack only")
        password_hash = hash_password(password)
        users = {
            "small": seed_user("small@bench.test", password_hash, 1_000, rng, now),
            "large": seed_user("large@bench.test", password_hash, 100_000, rng, now),
            "writer": seed_user("writer@bench.test", password_hash, 10, rng, now),
            # Last, and drawing nothing at random for notes: the others' data stays the same.
            "importer": seed_user("importer@bench.test", password_hash, 0, rng, now),
        }
        # Fresh statistics, as autovacuum would have them after a while. Also
        # seeds the embedded SQLite default for bench/run.py's transfer measurement.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("VACUUM ANALYZE")
    print(
        json.dumps(
            {
                "users": users,
                "common_word": COMMON_WORD,
                "rare_word": RARE_WORD,
                "seed": SEED,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
