-- Every type of the catalogue (the exception_types var) has a row in the severity_map seed:
-- int_exceptions joins on it, so a type without one would lose its exceptions. (A build with
-- --empty, which types the unit tests' fixtures, loads no seed rows: nothing to check then.)
select exception_type
from (values {% for type in var('exception_types') %}('{{ type }}'){{ ', ' if not loop.last }}{% endfor %}) as types(exception_type)
where exception_type not in (select exception_type from {{ ref('severity_map') }})
  and exists (select 1 from {{ ref('severity_map') }})
