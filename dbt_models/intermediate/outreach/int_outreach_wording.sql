-- Grain: one row per exception type (and subtype where the words differ): the service-only
-- words the outreach message is built from. Customer-facing text lives here and nowhere
-- else, so it can be reviewed (and checked for marketing language) in one place.
--   happened           what went wrong, in plain words ({day}: the local day it concerns)
--   next_*, question_* what happens next and the yes/no question, when no delivery is
--                      booked (unbooked) or when one is ({window}: its local day and hours)
--   message_rank       which type leads the "what happens next" part when a case has several
with rebook (next_unbooked, question_unbooked, next_booked, question_booked) as (
    values ('We will book a new delivery appointment and confirm it to you.',
            'Reply YES to confirm we may book the first available appointment, or NO and we will call you to agree a time.',
            'Your new delivery appointment is {window}.',
            'Reply YES to confirm this time suits you, or NO and we will call you to agree another.')
),
words (exception_type, exception_subtype, message_rank, happened) as (
    values
    ('missed_window', 'no_show', 1, 'our delivery team did not arrive during your delivery window on {day}'),
    ('missed_window', 'failed_attempt', 1, 'our delivery team could not complete your delivery on {day}'),
    ('missed_window', 'late_delivery', 1, 'your delivery arrived after the window we promised on {day}'),
    ('orphaned_reschedule', 'cancelled_not_rebooked', 2, 'your delivery appointment was cancelled and a new one has not been booked yet'),
    ('orphaned_reschedule', 'agreed_date_not_booked', 2, 'the delivery date we agreed with you has not been booked yet'),
    ('late_cancellation', null, 3, 'your delivery appointment was cancelled or moved at short notice'),
    ('at_risk_promise', null, 4, 'your order may not reach you by the date we promised, {day}'),
    ('excessive_rebook_delay', null, 5, 'your delivery date is much later than the date we promised'),
    ('double_booking', null, 6, 'two delivery appointments were booked for the same items'),
    ('stalled_handoff', null, 7, 'your order left our warehouse but the delivery company has not yet confirmed receiving it'),
    ('duplicate_shipment', null, 8, 'some items in your order were sent to you twice by mistake'),
    ('high_effort_contact', null, 9, 'you have had to contact us several times about this order')
),
next_steps (exception_type, next_unbooked, question_unbooked, next_booked, question_booked) as (
    select t.exception_type, r.* from rebook as r
    cross join (values ('missed_window'), ('orphaned_reschedule'), ('late_cancellation')) as t(exception_type)
    union all
    values
    ('at_risk_promise',
     'We are working to deliver it on time and will confirm your appointment as soon as it is booked.',
     'Reply YES to confirm you still want it delivered as soon as possible, or NO and we will call you to agree a new date.',
     'Your delivery appointment is {window}.',
     'Reply YES to confirm this time suits you, or NO and we will call you to agree another.'),
    ('excessive_rebook_delay',
     (select next_unbooked from rebook), (select question_unbooked from rebook),
     'Your delivery is booked {window} and we are looking for an earlier date.',
     'Reply YES if you would like us to move it earlier, or NO to keep this date.'),
    ('double_booking',
     'We will cancel the extra appointment so that only one delivery comes.',
     'Reply YES to confirm one delivery is all you need, or NO and we will call you.',
     'We will keep your appointment {window} and cancel the extra one.',
     'Reply YES to confirm this time suits you, or NO and we will call you to agree another.'),
    ('stalled_handoff',
     'We are tracing it with them and will send a replacement if it cannot be found.',
     'Reply YES to confirm we may send a replacement if needed, or NO and we will call you.',
     null, null),
    ('duplicate_shipment',
     'We will arrange to collect the extra items at a time that suits you.',
     'Reply YES to confirm you received extra items, or NO if you did not.',
     null, null),
    ('high_effort_contact',
     'A member of our delivery team will now look after this order personally until it is resolved.',
     'Reply YES if we may call you to put this right, or NO if everything is now sorted.',
     null, null)
)
select w.exception_type, w.exception_subtype, w.message_rank, w.happened,
       n.next_unbooked, n.question_unbooked, n.next_booked, n.question_booked
from words as w
join next_steps as n using (exception_type)
