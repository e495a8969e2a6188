{#-
    SPEC rule 6: the event time as a TIMESTAMP (UTC: the session time zone is
    pinned in the profile), NULL when the trimmed text (trim_to_null) does
    not match `event_timestamp_format` exactly. Spark's parser is strict: two
    digits per field, no 30 February, no hour 24. A format may hold literal
    text between single quotes (`yyyy-MM-dd'T'HH:mm:ss`): sql_string keeps
    them.
-#}
{% macro parse_event_time(text_expr) -%}
    try_to_timestamp({{ text_expr }}, {{ sql_string(var("event_timestamp_format")) }})
{%- endmacro %}
