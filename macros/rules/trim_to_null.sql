{#-
    Text with leading and trailing whitespace removed (spaces, tabs, CR, LF,
    vertical tab, form feed: Java's \s), NULL when nothing is left. Spark's
    plain trim() removes spaces only, so the characters are listed (as
    \uXXXX: Spark SQL reads '\f' as 'f'). Every "absent, null or blank" rule
    in SPEC goes through here. trim() is several times faster than the
    equivalent regexp_replace on millions of rows.
-#}
{% macro trim_to_null(expr) -%}
    nullif(trim(both '\u0020\u0009\u000A\u000B\u000C\u000D' from {{ expr }}), '')
{%- endmacro %}
