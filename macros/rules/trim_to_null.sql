{#-
    Text with leading and trailing whitespace removed (spaces, tabs, CR, LF,
    vertical tab, form feed: Java's \s), NULL when nothing is left. Spark's own
    trim() removes spaces only. Every "absent, null or blank" rule in SPEC goes
    through here.
-#}
{% macro trim_to_null(expr) -%}
    nullif(regexp_replace({{ expr }}, '^\\s+|\\s+$', ''), '')
{%- endmacro %}
