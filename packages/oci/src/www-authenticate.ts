/** One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`. */
export interface AuthChallenge {
  /** Lower case: `basic`, `bearer`. */
  scheme: string;
  /** Parameter names in lower case, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/;

/** Parses a `WWW-Authenticate` value (RFC 9110 §11.6.1), which may hold several challenges. */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = header;
  const skip = (pattern: RegExp) => {
    rest = rest.replace(pattern, '');
  };

  for (;;) {
    skip(/^[\s,]+/);
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length);
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);

    // Parameters follow until a token that is not followed by "=" starts the next challenge.
    for (;;) {
      skip(/^[\s,]+/);
      const param = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/.exec(rest);
      if (!param?.[1]) break;
      rest = rest.slice(param[0].length);
      const value = readValue(rest);
      rest = rest.slice(value.consumed);
      challenge.params[param[1].toLowerCase()] = value.text;
    }
    if (rest.length > 0 && TOKEN.exec(rest) === null) {
      // Unparseable remainder (a token68 credential, stray characters): drop it.
      skip(/^[^,]*/);
    }
  }
  return challenges;
}

function readValue(text: string): { text: string; consumed: number } {
  if (!text.startsWith('"')) {
    const token = /^[^\s,]*/.exec(text)?.[0] ?? '';
    return { text: token, consumed: token.length };
  }
  let value = '';
  for (let index = 1; index < text.length; index++) {
    const char = text[index];
    if (char === '\\' && index + 1 < text.length) {
      value += text[++index];
    } else if (char === '"') {
      return { text: value, consumed: index + 1 };
    } else {
      value += char;
    }
  }
  return { text: value, consumed: text.length };
}
