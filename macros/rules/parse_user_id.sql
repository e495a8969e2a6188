{#-
    SPEC rule 4: user.id as BIGINT, NULL when it is not an integer.
    A JSON number counts when its value is integral (56456, 56456.0, 1e3);
    a JSON string when, trimmed, it is only digits ("56456"). Either way it
    must fit a BIGINT. try_cast keeps this safe with ANSI mode on. Takes the
    trimmed text (trim_to_null), as every rule after rule 1 does.
-#}
{% macro parse_user_id(text_expr, kind_expr) -%}
    case
        when {{ kind_expr }} = 'number'
            and try_cast({{ text_expr }} as decimal(38, 6)) = floor(try_cast({{ text_expr }} as decimal(38, 6)))
            then try_cast(try_cast({{ text_expr }} as decimal(38, 6)) as bigint)
        when {{ kind_expr }} = 'string'
            and {{ text_expr }} rlike '^[0-9]+$'
            then try_cast({{ text_expr }} as bigint)
    end
{%- endmacro %}
