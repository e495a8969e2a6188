{#-
    SPEC rule 1 (malformed_json), first half: is the line exactly one JSON
    object? Two steps, so that the line is parsed once per row:

    1. `parse_json_line(line)`: the line wrapped as `[<line>,"<end marker>"]`
       and parsed to a VARIANT (NULL when it is not valid JSON: syntax errors,
       duplicate keys, NaN). try_parse_json alone would accept trailing garbage
       (`{"a":1} x` parses as {"a":1}); inside the array it cannot.
    2. `json_object_or_null(parsed)`: the line's JSON value when the array
       holds exactly one object and then the marker, else NULL.

    The other half (fields of the wrong JSON shape) is in stg_web_events.
-#}
{% macro parse_json_line(line_expr) -%}
    try_parse_json(concat('[', {{ line_expr }}, ',"~end-of-line~"]'))
{%- endmacro %}

{% macro json_object_or_null(parsed_expr) -%}
    case
        when
            try_variant_get({{ parsed_expr }}, '$[1]', 'string') = '~end-of-line~'
            and variant_get({{ parsed_expr }}, '$[2]') is null
            and schema_of_variant(variant_get({{ parsed_expr }}, '$[0]')) like 'OBJECT<%'
            then variant_get({{ parsed_expr }}, '$[0]')
    end
{%- endmacro %}
