"""Parks: every park (illustrative defaults + the user's) with the indicator engine's numbers on
the data in use, a detail card, adding parks by upload or drawing, managing saved parks, and
exports. Render only: the blocks are in ui/parks_page.py."""
from ui import common, parks, parks_card
from ui import parks_page as page

lg = common.page("parks.title", "parks.intro")
df = parks.indicators(lg, partial=True)  # None: a refused input (message shown) or nothing cached yet
geo = parks.current_parks()
if df is not None:
    page.indicator_table(df, lg)
    page.exports(df, geo, lg)
    parks_card.detail_card(df, geo, lg)
page.add_parks(geo, lg)
page.manage_parks(lg)
page.park_bin(lg)
