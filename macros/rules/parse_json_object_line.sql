{#-
    SPEC rule 1 (malformed_json), first half: is the line exactly one JSON
    object? Two steps, so that the line is parsed once per row:

    1. `parse_json_line(line)`: the line wrapped as `[<line>,"<end marker>"]`
       and parsed to a VARIANT (NULL when it is not valid JSON: syntax errors,
       duplicate keys, NaN). try_parse_json alone would accept trailing garbage
       (`{"a":1} x` parses as {"a":1}); inside the array it cannot.
    2. `is_json_object_line(line, parsed)`: true when the array holds
       exactly one value and then the marker, and that value is an object:
       valid JSON whose first character after JSON whitespace is `{`. (A
       text test: Spark's schema_of_variant on the whole object costs more
       than the parse itself.) The fields are then read from the parsed
       array by path (`$[0].url`), without copying the object out.

    The other half (fields of the wrong JSON shape) is in stg_web_events.
-#}
{% macro parse_json_line(line_expr) -%}
    try_parse_json(concat('[', {{ line_expr }}, ',"~end-of-line~"]'))
{%- endmacro %}

{% macro is_json_object_line(line_expr, parsed_expr) -%}
    coalesce(
        try_variant_get({{ parsed_expr }}, '$[1]', 'string') = '~end-of-line~'
        and variant_get({{ parsed_expr }}, '$[2]') is null
        and startswith(trim(leading '\u0020\u0009\u000A\u000D' from {{ line_expr }}), '{'),
        false
    )
{%- endmacro %}

{#-
    The fields of the event as text, in one pass of Spark's JSON reader
    (from_json): a string as its value, a number as its digits, a boolean,
    object or array as its JSON text (stg_web_events then tells those apart),
    NULL when absent or null. Read this way rather than field by field from
    the parsed VARIANT, which costs several times more on millions of lines.
    Only meaningful where is_json_object_line() holds.
-#}
{% macro json_record(line_expr) -%}
    from_json(
        {{ line_expr }},
        'struct<event_id string, user struct<session_id string, id string, ip string>, action string, url string, timestamp string>'
    )
{%- endmacro %}
