{#-
    Parses one text line as a JSON document and returns it as a VARIANT when it
    is exactly one JSON object, else NULL (SPEC rule 1, malformed_json).

    try_parse_json alone accepts trailing garbage (`{"a":1} x` parses as
    {"a":1}). Wrapping the line as `[<line>,"<end marker>"]` and checking that
    the array holds exactly the object and then the marker rejects that too,
    besides what try_parse_json rejects (invalid JSON, duplicate keys, NaN).
    Spark evaluates the repeated parse once per row (common subexpression
    elimination).
-#}
{% macro parse_json_object_line(line_expr) -%}
    {%- set wrapped = "try_parse_json(concat('[', " ~ line_expr ~ ", ',\"~end-of-line~\"]'))" -%}
    case
        when try_variant_get({{ wrapped }}, '$[1]', 'string') = '~end-of-line~'
            and variant_get({{ wrapped }}, '$[2]') is null
            and schema_of_variant(variant_get({{ wrapped }}, '$[0]')) like 'OBJECT<%'
            then variant_get({{ wrapped }}, '$[0]')
    end
{%- endmacro %}
