/**
 * Which IP version a text is (4, 6, or 0 for neither), accepting what node:net's isIP accepts
 * (an IPv6 zone such as `%eth0` included). berth's own checks because node:net's large regular
 * expressions cost a command ~15 ms to compile on first use, more than all the parsing berth does.
 */

const v4Pattern = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;
const zonePattern = /^[0-9a-zA-Z\-.:]+$/;

function isV6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent >= 0 && !zonePattern.test(text.slice(percent + 1))) return false;
  const address = percent >= 0 ? text.slice(0, percent) : text;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  let count = groups.length;
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes('.')) {
    // A dotted IPv4 tail counts as two groups and must end the address.
    if (!v4Pattern.test(last) || (halves.length === 2 && halves[1] === '')) return false;
    groups.pop();
    count += 1;
  }
  if (!groups.every((group) => hexGroup.test(group))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** 4 or 6 when `text` is an IPv4 or IPv6 address, else 0 (as node:net's isIP). */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (v4Pattern.test(text)) return 4;
  return text.includes(':') && isV6(text) ? 6 : 0;
}
