"""imported articles: where they came from, and their old addresses

Revision ID: e2a426c2d840
Revises: 9de17a5184c6
Create Date: 2026-11-30 06:23:41.330075

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a426c2d840'
down_revision = '9de17a5184c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_from', sa.String(length=200), nullable=True))
        # A unique index, not a constraint: adding one would copy the articles table on SQLite,
        # and dropping the old copy would delete every row that cascades from it.
        batch_op.create_index(batch_op.f('ix_articles_imported_from'), ['imported_from'], unique=True)

    op.create_table('legacy_paths',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_legacy_paths_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_paths')),
    sa.UniqueConstraint('path', name=op.f('uq_legacy_paths_path'))
    )
    with op.batch_alter_table('legacy_paths', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legacy_paths_article_id'), ['article_id'], unique=False)


def downgrade():
    with op.batch_alter_table('legacy_paths', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legacy_paths_article_id'))

    op.drop_table('legacy_paths')
    # Not in batch mode, for the same reason (SQLite drops a column in place since 3.35).
    op.drop_index(op.f('ix_articles_imported_from'), table_name='articles')
    op.drop_column('articles', 'imported_from')
