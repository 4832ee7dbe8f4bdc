{# Fails on every row whose text holds an email address or a phone number (an @, or a + and
   digits, as E.164 numbers are written): text a support agent reads must never carry them.
   Backslashes doubled: Jinja unescapes its string literals, and '\+' is no escape. #}
{% test no_contact_details(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ matches(column_name, '@|\\+\\d[\\d ()-]{6,}') }}
{% endtest %}
