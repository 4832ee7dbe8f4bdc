-- Grain: one row per exception type (and subtype where the words differ): the service-only
-- words the outreach message is built from. Customer-facing text lives in two seeds and
-- nowhere else, so it can be reviewed (and checked for marketing language) in one place:
--   outreach_happened    what went wrong, in plain words ({day}: the local day it concerns),
--                        message_rank (which type leads the "what happens next" part when a
--                        case has several) and the next step it calls for
--   outreach_next_steps  what happens next and the yes/no question, when no delivery is
--                        booked (unbooked) or when one is ({window}: its local day and hours)
-- nullif: an empty field is null in the loaded seed but '' in a unit test's fixture of the CSV
select h.exception_type, nullif(h.exception_subtype, '') as exception_subtype, h.message_rank, h.happened,
       n.next_unbooked, n.question_unbooked,
       nullif(n.next_booked, '') as next_booked, nullif(n.question_booked, '') as question_booked
from {{ ref('outreach_happened') }} as h
join {{ ref('outreach_next_steps') }} as n using (next_step)
