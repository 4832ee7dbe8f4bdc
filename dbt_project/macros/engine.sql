{#- Every difference between the two engines the models run on, and nowhere else: DuckDB (the
    default target, `main`) and Apache Spark (target `spark`, FULFILMENT_ENGINE=spark). Each macro
    is named for what it means and dispatched (adapter.dispatch): `default__` is DuckDB's SQL,
    exactly what the models ran before they were ported; `spark__` is Spark SQL 4.x giving the
    same values. The models call these and never ask which engine they run on.

    Spark's session is always UTC (fulfilment_monitor/spark.py), as DuckDB's is (profiles.yml):
    the casts between instants (TIMESTAMP) and wall clocks (TIMESTAMP_NTZ) below rely on it.
    DuckDB orders NULLs last in both directions, Spark first when ascending: every sort a macro
    writes says NULLS LAST on Spark (nulls_last). -#}

{#- ---- types ------------------------------------------------------------------------------- -#}

{#- An instant (DuckDB TIMESTAMPTZ; Spark's TIMESTAMP is the same thing: UTC micros). -#}
{% macro instant_type() %}{{ return(adapter.dispatch('instant_type', 'fulfilment_monitor')()) }}{% endmacro %}
{% macro default__instant_type() %}TIMESTAMPTZ{% endmacro %}
{% macro spark__instant_type() %}TIMESTAMP{% endmacro %}

{#- An empty list of text, and an empty map of text to counts (typed, so a coalesce keeps its type). -#}
{% macro empty_text_list() %}{{ return(adapter.dispatch('empty_text_list', 'fulfilment_monitor')()) }}{% endmacro %}
{% macro default__empty_text_list() %}CAST([] AS VARCHAR[]){% endmacro %}
{% macro spark__empty_text_list() %}CAST(array() AS ARRAY<STRING>){% endmacro %}

{% macro empty_count_map() %}{{ return(adapter.dispatch('empty_count_map', 'fulfilment_monitor')()) }}{% endmacro %}
{% macro default__empty_count_map() %}map_from_entries(CAST([] AS STRUCT(k VARCHAR, v BIGINT)[])){% endmacro %}
{% macro spark__empty_count_map() %}CAST(map() AS MAP<STRING, BIGINT>){% endmacro %}

{#- The latest possible instant: an open end that compares after every real one. -#}
{% macro end_of_time() %}{{ return(adapter.dispatch('end_of_time', 'fulfilment_monitor')()) }}{% endmacro %}
{% macro default__end_of_time() %}CAST('infinity' AS TIMESTAMPTZ){% endmacro %}
{% macro spark__end_of_time() %}TIMESTAMP '9999-12-31 23:59:59.999999'{% endmacro %}

{#- ---- time -------------------------------------------------------------------------------- -#}

{#- A delivered ISO 8601 timestamp (offset included) as an instant. The loader accepts one
    without seconds (08:00+01:00): DuckDB reads it, Spark reads it as NULL (or fails), so on
    Spark the seconds are written in first (iso_with_seconds). -#}
{% macro parse_instant(text) %}{{ return(adapter.dispatch('parse_instant', 'fulfilment_monitor')(text)) }}{% endmacro %}
{% macro default__parse_instant(text) %}CAST({{ text }} AS TIMESTAMPTZ){% endmacro %}
{% macro spark__parse_instant(text) %}to_timestamp({{ iso_with_seconds(text) }}){% endmacro %}

{#- The wall clock written in a delivered ISO 8601 timestamp, in its own offset (its first 19
    characters: date and time of day). -#}
{% macro parse_wall_clock(text) %}{{ return(adapter.dispatch('parse_wall_clock', 'fulfilment_monitor')(text)) }}{% endmacro %}
{% macro default__parse_wall_clock(text) %}CAST(left({{ text }}, 19) AS TIMESTAMP){% endmacro %}
{% macro spark__parse_wall_clock(text) %}to_timestamp_ntz(left({{ iso_with_seconds(text) }}, 19)){% endmacro %}

{% macro iso_with_seconds(text) -%}
    regexp_replace({{ text }}, '^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2})(?!:)', '$1T$2:00')
{%- endmacro %}

{#- The wall clock of an instant in an IANA zone (a SQL expression), and back: the instant a
    wall clock in that zone names. -#}
{% macro to_local_time(instant, zone) %}{{ return(adapter.dispatch('to_local_time', 'fulfilment_monitor')(instant, zone)) }}{% endmacro %}
{% macro default__to_local_time(instant, zone) %}timezone({{ zone }}, {{ instant }}){% endmacro %}
{% macro spark__to_local_time(instant, zone) %}convert_timezone('UTC', {{ zone }}, CAST({{ instant }} AS TIMESTAMP_NTZ)){% endmacro %}

{% macro to_instant(wall_clock, zone) %}{{ return(adapter.dispatch('to_instant', 'fulfilment_monitor')(wall_clock, zone)) }}{% endmacro %}
{% macro default__to_instant(wall_clock, zone) %}timezone({{ zone }}, {{ wall_clock }}){% endmacro %}
{% macro spark__to_instant(wall_clock, zone) %}CAST(convert_timezone({{ zone }}, 'UTC', CAST({{ wall_clock }} AS TIMESTAMP_NTZ)) AS TIMESTAMP){% endmacro %}

{#- Is this text a time zone name both the engine and the IANA database know? (DuckDB: ICU's
    list; Spark: the IANA list as Python's pytz has it, rendered into the SQL.) -#}
{% macro is_time_zone(zone) %}{{ return(adapter.dispatch('is_time_zone', 'fulfilment_monitor')(zone)) }}{% endmacro %}
{% macro default__is_time_zone(zone) %}{{ zone }} in (select name from pg_timezone_names()){% endmacro %}
{% macro spark__is_time_zone(zone) -%}
    {{ zone }} in ({% for name in modules.pytz.all_timezones %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{#- n hours, minutes or days as an interval; n is a whole number known when the SQL is compiled
    (a dbt var): Spark takes an interval literal where a window frame needs one. -#}
{% macro hours(n) %}{{ return(adapter.dispatch('hours', 'fulfilment_monitor')(n)) }}{% endmacro %}
{% macro default__hours(n) %}to_hours(CAST({{ n }} AS BIGINT)){% endmacro %}
{% macro spark__hours(n) %}INTERVAL {{ n | int }} HOURS{% endmacro %}

{% macro minutes(n) %}{{ return(adapter.dispatch('minutes', 'fulfilment_monitor')(n)) }}{% endmacro %}
{% macro default__minutes(n) %}to_minutes(CAST({{ n }} AS BIGINT)){% endmacro %}
{% macro spark__minutes(n) %}INTERVAL {{ n | int }} MINUTES{% endmacro %}

{% macro days(n) %}{{ return(adapter.dispatch('days', 'fulfilment_monitor')(n)) }}{% endmacro %}
{% macro default__days(n) %}to_days(CAST({{ n }} AS INTEGER)){% endmacro %}
{% macro spark__days(n) %}INTERVAL {{ n | int }} DAYS{% endmacro %}

{#- Seconds from one instant to a later one (fractional, a DOUBLE). -#}
{% macro seconds_between(earlier, later) %}{{ return(adapter.dispatch('seconds_between', 'fulfilment_monitor')(earlier, later)) }}{% endmacro %}
{% macro default__seconds_between(earlier, later) %}epoch({{ later }} - {{ earlier }}){% endmacro %}
{% macro spark__seconds_between(earlier, later) %}(CAST(unix_micros({{ later }}) - unix_micros({{ earlier }}) AS DOUBLE) / 1000000){% endmacro %}

{#- Hour boundaries crossed from one instant to another, as DuckDB's date_diff('hour', ...)
    counts them (not whole hours elapsed, which Spark's timestampdiff counts). -#}
{% macro hour_boundaries_between(earlier, later) %}{{ return(adapter.dispatch('hour_boundaries_between', 'fulfilment_monitor')(earlier, later)) }}{% endmacro %}
{% macro default__hour_boundaries_between(earlier, later) %}date_diff('hour', {{ earlier }}, {{ later }}){% endmacro %}
{% macro spark__hour_boundaries_between(earlier, later) -%}
    (floor(unix_micros({{ later }}) / 3600000000) - floor(unix_micros({{ earlier }}) / 3600000000))
{%- endmacro %}

{#- Calendar days from one date to a later one (a whole number). -#}
{% macro days_after(later, earlier) %}{{ return(adapter.dispatch('days_after', 'fulfilment_monitor')(later, earlier)) }}{% endmacro %}
{% macro default__days_after(later, earlier) %}({{ later }} - {{ earlier }}){% endmacro %}
{% macro spark__days_after(later, earlier) %}datediff({{ later }}, {{ earlier }}){% endmacro %}

{#- A date or time as text, written with strftime's codes (%Y %m %d %-d %H %M %S %a %A %b %B);
    Spark's date_format takes the same in Java's letters, literal letters quoted. -#}
{% macro format_time(value, format) %}{{ return(adapter.dispatch('format_time', 'fulfilment_monitor')(value, format)) }}{% endmacro %}
{% macro default__format_time(value, format) %}strftime({{ value }}, '{{ format }}'){% endmacro %}
{% macro spark__format_time(value, format) -%}
    {%- set codes = {'Y': 'yyyy', 'm': 'MM', 'd': 'dd', 'H': 'HH', 'M': 'mm', 'S': 'ss',
                     'a': 'EEE', 'A': 'EEEE', 'b': 'MMM', 'B': 'MMMM'} -%}
    {%- set out = namespace(text='', word='', code=false, unpadded=false) -%}
    {%- for char in format ~ '%' -%}
        {%- if out.word and not (char.isalpha() and not out.code) -%}
            {%- set out.text = out.text ~ "'" ~ out.word ~ "'" -%}{%- set out.word = '' -%}  {#- a run of literal letters, quoted once -#}
        {%- endif -%}
        {%- if out.code and char == '-' -%}{%- set out.unpadded = true -%}
        {%- elif out.code -%}
            {%- if char not in codes -%}{{ exceptions.raise_compiler_error("format_time: no Spark pattern for %" ~ char) }}{%- endif -%}
            {%- set out.text = out.text ~ (codes[char][1:] if out.unpadded else codes[char]) -%}
            {%- set out.code = false -%}{%- set out.unpadded = false -%}
        {%- elif char == '%' -%}{%- set out.code = true -%}
        {%- elif char.isalpha() -%}{%- set out.word = out.word ~ char -%}
        {%- else -%}{%- set out.text = out.text ~ char -%}
        {%- endif -%}
    {%- endfor -%}
    date_format({{ value }}, "{{ out.text }}")
{%- endmacro %}

{#- A series of calendar days from one date to another, as a relation with one column `day`. -#}
{% macro day_series(first, last) %}{{ return(adapter.dispatch('day_series', 'fulfilment_monitor')(first, last)) }}{% endmacro %}
{% macro default__day_series(first, last) %}generate_series({{ first }}, {{ last }}, INTERVAL 1 DAY) as days(day){% endmacro %}
{% macro spark__day_series(first, last) -%}
    (select explode(sequence(f, l, INTERVAL 1 DAY)) as day
     from (select {{ first }} as f, {{ last }} as l) where f <= l) as days
{%- endmacro %}

{#- ---- numbers and text --------------------------------------------------------------------- -#}

{#- The whole quotient of two whole numbers. -#}
{% macro quotient(dividend, divisor) %}{{ return(adapter.dispatch('quotient', 'fulfilment_monitor')(dividend, divisor)) }}{% endmacro %}
{% macro default__quotient(dividend, divisor) %}{{ dividend }} // {{ divisor }}{% endmacro %}
{% macro spark__quotient(dividend, divisor) %}({{ dividend }} div {{ divisor }}){% endmacro %}

{#- Text on one line: every run of white space one space, none at either end. -#}
{% macro one_line(text) %}{{ return(adapter.dispatch('one_line', 'fulfilment_monitor')(text)) }}{% endmacro %}
{% macro default__one_line(text) %}trim(regexp_replace({{ text }}, '\s+', ' ', 'g')){% endmacro %}
{#- RE2's \s, spelled out: Java's \s also matches a vertical tab -#}
{% macro spark__one_line(text) %}trim(regexp_replace({{ text }}, '[ \\t\\n\\f\\r]+', ' ')){% endmacro %}

{#- Does the text match the regular expression (written as for DuckDB: backslashes single)? -#}
{% macro matches(text, pattern) %}{{ return(adapter.dispatch('matches', 'fulfilment_monitor')(text, pattern)) }}{% endmacro %}
{% macro default__matches(text, pattern) %}regexp_matches({{ text }}, '{{ pattern }}'){% endmacro %}
{% macro spark__matches(text, pattern) %}({{ text }} rlike '{{ pattern | replace("\\", "\\\\") }}'){% endmacro %}

{#- ---- rows, lists and maps ----------------------------------------------------------------- -#}

{#- Every column of a relation (alias.* ...) but `columns`. -#}
{% macro star_except(alias, columns) %}{{ return(adapter.dispatch('star_except', 'fulfilment_monitor')(alias, columns)) }}{% endmacro %}
{% macro default__star_except(alias, columns) %}{{ alias ~ '.' if alias }}* exclude ({{ columns | join(', ') }}){% endmacro %}
{% macro spark__star_except(alias, columns) %}{{ alias ~ '.' if alias }}* except ({{ columns | join(', ') }}){% endmacro %}

{#- The rows of several relations under one set of columns, matched by name; a column a
    relation lacks is null there. -#}
{% macro union_all_by_name(relations) %}{{ return(adapter.dispatch('union_all_by_name', 'fulfilment_monitor')(relations)) }}{% endmacro %}
{% macro default__union_all_by_name(relations) -%}
    {% for relation in relations %}{{ 'union all by name ' if not loop.first }}select * from {{ relation }}
    {% endfor %}
{%- endmacro %}
{% macro spark__union_all_by_name(relations) -%}
    {%- if not execute -%}{{ return('select 1 as parsing') }}{%- endif -%}
    {%- set types = {} -%}{%- set order = [] -%}{%- set has = [] -%}
    {%- for relation in relations -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(_table_of(relation)) -%}
            {%- if column.name not in types -%}{%- do types.update({column.name: column.data_type}) -%}{%- do order.append(column.name) -%}{%- endif -%}
            {%- do names.append(column.name) -%}
        {%- endfor -%}
        {%- do has.append(names) -%}
    {%- endfor -%}
    {%- for relation in relations %}
    {%- set names = has[loop.index0] %}
    {{ 'union all ' if not loop.first }}select {% for name in order -%}
        {{ name if name in names else 'CAST(NULL AS ' ~ types[name] ~ ') as ' ~ name }}{{ ', ' if not loop.last }}
    {%- endfor %} from {{ relation }}
    {%- endfor %}
{%- endmacro %}

{#- The table a ref names, to read its columns: under --empty the ref is a subquery of it, and in
    a unit test a fixture of the same columns (a CTE, no schema, and no graph to look it up in:
    it is found by name in the project's layers). -#}
{% macro _table_of(relation) -%}
    {%- if relation.schema -%}
        {{ return(api.Relation.create(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
    {%- endif -%}
    {%- set name = relation.identifier | replace('__dbt__cte__', '') -%}
    {%- for layer in ['staging', 'intermediate', 'marts'] -%}
        {%- set found = adapter.get_relation(database=none, schema=layer, identifier=name) -%}
        {%- if found is not none -%}{{ return(found) }}{%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("union_all_by_name: no table for " ~ relation) }}
{%- endmacro %}

{#- Sort keys (a list of SQL terms) with NULLs last, as DuckDB sorts them. -#}
{% macro nulls_last(keys) %}{{ return(adapter.dispatch('nulls_last', 'fulfilment_monitor')(keys)) }}{% endmacro %}
{% macro default__nulls_last(keys) %}{{ return(keys | join(', ')) }}{% endmacro %}
{% macro spark__nulls_last(keys) -%}
    {%- set out = [] -%}
    {%- for key in keys -%}{%- do out.append(key if 'nulls ' in key | lower else key ~ ' nulls last') -%}{%- endfor -%}
    {{ return(out | join(', ')) }}
{%- endmacro %}

{#- The aggregate list of `value` in the order of `order_by` (a list of SQL terms, ascending),
    nulls kept; `distinct`: each value once (then ordered by itself); `where`: of the rows that
    meet it only, null when none does. Spark's collect_list keeps no order: the rows are
    collected with their sort keys (a null flag before each: NULLS LAST) and sorted. -#}
{% macro ordered_list(value, order_by, distinct=false, where=none) %}{{ return(adapter.dispatch('ordered_list', 'fulfilment_monitor')(value, order_by, distinct, where)) }}{% endmacro %}
{% macro default__ordered_list(value, order_by, distinct, where) -%}
    list({{ 'distinct ' if distinct }}{{ value }} order by {{ order_by | join(', ') }}){{ ' filter (where ' ~ where ~ ')' if where }}
{%- endmacro %}
{% macro spark__ordered_list(value, order_by, distinct, where) -%}
    {%- if distinct and order_by != [value] -%}
        {{ exceptions.raise_compiler_error("ordered_list: a distinct list is ordered by its value") }}
    {%- endif -%}
    {%- set keys = [] -%}
    {%- for key in order_by -%}{%- do keys.append(key ~ ' is null') -%}{%- do keys.append(key) -%}{%- endfor -%}
    {%- set sorted -%}
        transform(array_sort(collect_list(struct({{ keys | join(', ') }}, {{ value }} as v)){{ ' filter (where ' ~ where ~ ')' if where }}), e -> e.v)
    {%- endset -%}
    {%- if distinct %}{% set sorted = 'array_distinct(' ~ sorted ~ ')' %}{% endif -%}
    {%- if where -%}(case when bool_or({{ where }}) then {{ sorted }} end){%- else -%}{{ sorted }}{%- endif -%}
{%- endmacro %}

{#- The aggregate map of `key` to `value`, its entries in the order of `order_by`. -#}
{% macro ordered_map(key, value, order_by) %}{{ return(adapter.dispatch('ordered_map', 'fulfilment_monitor')(key, value, order_by)) }}{% endmacro %}
{% macro default__ordered_map(key, value, order_by) -%}
    map_from_entries(list(({{ key }}, {{ value }}) order by {{ order_by | join(', ') }}))
{%- endmacro %}
{% macro spark__ordered_map(key, value, order_by) -%}
    map_from_entries({{ spark__ordered_list('struct(' ~ key ~ ' as k, ' ~ value ~ ' as v)', order_by, false, none) }})
{%- endmacro %}

{#- The aggregate text of `value` joined by `separator` in the order of `order_by`. -#}
{% macro joined_text(value, separator, order_by) %}{{ return(adapter.dispatch('joined_text', 'fulfilment_monitor')(value, separator, order_by)) }}{% endmacro %}
{% macro default__joined_text(value, separator, order_by) -%}
    string_agg({{ value }}, {{ separator }} order by {{ order_by | join(', ') }})
{%- endmacro %}
{% macro spark__joined_text(value, separator, order_by) -%}
    string_agg({{ value }}, {{ separator }}) within group (order by {{ nulls_last(order_by) }})
{%- endmacro %}

{#- Each element of a list as words (`words`: SQL over the element, named `element`), joined. -#}
{% macro join_each(list, element, words, separator) %}{{ return(adapter.dispatch('join_each', 'fulfilment_monitor')(list, element, words, separator)) }}{% endmacro %}
{% macro default__join_each(list, element, words, separator) -%}
    array_to_string(list_transform({{ list }}, lambda {{ element }}: {{ words }}), {{ separator }})
{%- endmacro %}
{% macro spark__join_each(list, element, words, separator) -%}
    array_join(transform({{ list }}, {{ element }} -> {{ words }}), {{ separator }})
{%- endmacro %}

{#- A list's first element (null for an empty or null list), and the rest of it (empty then). -#}
{% macro first_of(list) %}{{ return(adapter.dispatch('first_of', 'fulfilment_monitor')(list)) }}{% endmacro %}
{% macro default__first_of(list) %}{{ list }}[1]{% endmacro %}
{% macro spark__first_of(list) %}try_element_at({{ list }}, 1){% endmacro %}

{% macro rest_of(list) %}{{ return(adapter.dispatch('rest_of', 'fulfilment_monitor')(list)) }}{% endmacro %}
{% macro default__rest_of(list) %}coalesce({{ list }}[2:], []){% endmacro %}
{% macro spark__rest_of(list) %}coalesce(slice({{ list }}, 2, greatest(size({{ list }}) - 1, 0)), array()){% endmacro %}

{#- The 1-based position of a value in a list of text literals. -#}
{% macro position_in(items, value) %}{{ return(adapter.dispatch('position_in', 'fulfilment_monitor')(items, value)) }}{% endmacro %}
{% macro default__position_in(items, value) %}list_position([{% for item in items %}'{{ item }}'{{ ', ' if not loop.last }}{% endfor %}], {{ value }}){% endmacro %}
{% macro spark__position_in(items, value) %}array_position(array({% for item in items %}'{{ item }}'{{ ', ' if not loop.last }}{% endfor %}), {{ value }}){% endmacro %}

{#- The value at the row with the smallest (largest) key; `key` is one SQL term or a list of them
    (compared in order). -#}
{% macro value_at_min(value, key) %}{{ return(adapter.dispatch('value_at_min', 'fulfilment_monitor')(value, key)) }}{% endmacro %}
{% macro default__value_at_min(value, key) %}arg_min({{ value }}, {{ _key(key, '') }}){% endmacro %}
{% macro spark__value_at_min(value, key) %}min_by({{ value }}, {{ _key(key, 'struct') }}){% endmacro %}

{% macro value_at_max(value, key) %}{{ return(adapter.dispatch('value_at_max', 'fulfilment_monitor')(value, key)) }}{% endmacro %}
{% macro default__value_at_max(value, key) %}arg_max({{ value }}, {{ _key(key, '') }}){% endmacro %}
{% macro spark__value_at_max(value, key) %}max_by({{ value }}, {{ _key(key, 'struct') }}){% endmacro %}

{% macro _key(key, row) %}{{ key if key is string else row ~ '(' ~ key | join(', ') ~ ')' }}{% endmacro %}

{#- ---- building ------------------------------------------------------------------------------ -#}

{#- Does this engine keep models incrementally (macros/incremental.sql)? Spark's tables are
    Parquet (no MERGE, no DELETE): there every model is built in full each run (transform.py
    passes --full-refresh), which is what the incremental machinery exists to equal. -#}
{% macro builds_incrementally() %}{{ return(adapter.dispatch('builds_incrementally', 'fulfilment_monitor')()) }}{% endmacro %}
{% macro default__builds_incrementally() %}{{ return(true) }}{% endmacro %}
{% macro spark__builds_incrementally() %}{{ return(false) }}{% endmacro %}

{#- How a history kept across runs (exception_history) takes a run's rows: one run per value of
    `column` (T), a rerun replacing that run's rows. DuckDB deletes them, then appends; Spark
    overwrites the partition of that T (insert_overwrite on a table partitioned by it). A config. -#}
{% macro history_append(column) %}{{ return(adapter.dispatch('history_append', 'fulfilment_monitor')(column)) }}{% endmacro %}
{% macro default__history_append(column) %}
    {{ return({'incremental_strategy': 'append',
               'pre_hook': "{% if is_incremental() %}delete from {{ this }} where " ~ column ~ " = {{ as_of() }}{% endif %}"}) }}
{% endmacro %}
{% macro spark__history_append(column) %}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [column]}) }}
{% endmacro %}

{#- dbt-spark checks an incremental model's strategy before it looks at --full-refresh: let the
    keyed delete+insert that DuckDB uses through, as long as the model is being rebuilt in full. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy not in ['append', 'insert_overwrite', 'delete+insert'] -%}
        {{ exceptions.raise_compiler_error("incremental strategy " ~ raw_strategy ~ " is not one this project runs on Spark") }}
    {%- elif raw_strategy == 'delete+insert' and not should_full_refresh() -%}
        {{ exceptions.raise_compiler_error("on Spark every model is built in full each run: build with --full-refresh") }}
    {%- endif -%}
    {{ return(raw_strategy) }}
{% endmacro %}

{#- dbt-spark's session mode binds a seed's values as '<python value>' text: an empty field
    becomes 'None' and a quote (today's) breaks the statement. Written as escaped literals. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set value = row[loop.index0] -%}
                cast({{ 'null' if value is none else "'" ~ (value | string | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'" }} as {{ type }})
                {{- ', ' if not loop.last }}
            {%- endfor -%}){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- A unit test's fixture writes a list or a map as DuckDB reads one from text ('[email, sms]',
    '{phone=2, email=1}'); Spark casts no text to either, so such a value is written as an
    array of its items, or a map of its entries. -#}
{% macro spark__safe_cast(field, type) %}
    {%- set text = field.strip("'") if field is string else none -%}
    {%- set kind = type.lower()[:3] -%}
    {%- if text is not none and (kind, text[:1]) in [('arr', '['), ('map', '{')] -%}
        {%- set items = [] -%}
        {%- for item in text[1:-1].split(',') if item.strip() -%}
            {%- for part in item.split('=', 1) -%}{%- do items.append("'" ~ part.strip() ~ "'") -%}{%- endfor -%}
        {%- endfor -%}
        CAST({{ 'array' if kind == 'arr' else 'map' }}({{ items | join(', ') }}) AS {{ type }})
    {%- else -%}
        {%- set field_clean = field.strip('"').strip("'") if (cast_from_string_unsupported_for(type) and field is string) else field -%}
        cast({{ field_clean }} as {{ type }})
    {%- endif -%}
{% endmacro %}
