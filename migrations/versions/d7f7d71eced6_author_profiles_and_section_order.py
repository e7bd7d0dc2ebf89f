"""author profiles and section order

Revision ID: d7f7d71eced6
Revises: 26bd2c9c2898
Create Date: 2026-11-30 05:38:52.240576

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7f7d71eced6'
down_revision = '26bd2c9c2898'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bio', sa.String(length=1000), server_default='', nullable=False))
        batch_op.add_column(sa.Column('photo', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('photo_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('photo_height', sa.Integer(), nullable=True))
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('in_navigation', sa.Boolean(), server_default='1', nullable=False))
    _positions_in_alphabetical_order()


def _positions_in_alphabetical_order():
    """The sections a site already has take the navigation's places by name, A first."""
    bind = op.get_bind()
    sections = sa.table('sections', sa.column('id'), sa.column('name'), sa.column('position'))
    by_name = sa.select(sections.c.id).order_by(sa.func.lower(sections.c.name), sections.c.id)
    for position, section_id in enumerate(bind.scalars(by_name).all(), start=1):
        bind.execute(
            sections.update().where(sections.c.id == section_id).values(position=position)
        )


def downgrade():
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_column('in_navigation')
        batch_op.drop_column('position')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('photo_height')
        batch_op.drop_column('photo_width')
        batch_op.drop_column('photo')
        batch_op.drop_column('bio')
