from sqlmodel import Session, func, select

from storage.tables.shared import Agency, Task


def test_seeded_database_holds_the_plan(any_engine):
    with Session(any_engine) as session:
        assert session.exec(select(func.count()).select_from(Task)).one() == 69
        assert session.exec(select(func.count()).select_from(Agency)).one() == 291
