{#-
    The whitespace of every "blank" rule: spaces, tabs, CR, LF, vertical tab
    and form feed (Java's \s). Spark's plain trim() removes spaces only, so
    the characters are listed (as \uXXXX: Spark SQL reads '\f' as 'f').
-#}
{% macro whitespace_characters() -%}
    '\u0020\u0009\u000A\u000B\u000C\u000D'
{%- endmacro %}

{#-
    Text with leading and trailing whitespace removed, NULL when nothing is
    left. Every "absent, null or blank" rule in SPEC goes through here.
    trim() is several times faster than the equivalent regexp_replace on
    millions of rows.
-#}
{% macro trim_to_null(expr) -%}
    nullif(trim(both {{ whitespace_characters() }} from {{ expr }}), '')
{%- endmacro %}

{#-
    Whether a text is empty or only whitespace: the same answer as
    `trim_to_null(expr) is null` for a non-NULL text, for whole input lines.
    It trims the left side only, which stops at the first other character:
    Spark's trim of the right side with a character list walks the whole text
    and allocates two arrays of its length, and nullif() evaluates the trim
    twice. On 500,000 event lines (a warm session, three runs each) the
    filter took 0.0-0.2 s more than reading the lines, against 0.8-1.0 s.
-#}
{% macro is_blank(expr) -%}
    (trim(leading {{ whitespace_characters() }} from {{ expr }}) = '')
{%- endmacro %}
