/** `berth graph` output: a tree for terminals, Graphviz dot and Mermaid for pictures. Deterministic. */
import type { Project } from '../model/index.js';
import type { ProjectGraph } from './build-graph.js';

/** Output formats of renderGraph(). */
export type GraphFormat = 'tree' | 'dot' | 'mermaid';

function conditionLabel(condition: string, required: boolean, restart?: boolean): string {
  const parts = [condition];
  if (!required) parts.push('optional');
  if (restart) parts.push('restart');
  return parts.join(', ');
}

/**
 * A tree per service nothing depends on (what `up` is really for), its dependencies below
 * with the condition they must reach. A subtree already shown is not repeated.
 */
function renderTree(project: Project, graph: ProjectGraph): string {
  const lines: string[] = [];
  const shown = new Set<string>();
  const children = (name: string): { to: string; label: string }[] =>
    graph.edges.filter((edge) => edge.from === name).map((edge) => ({
      to: edge.to,
      label: conditionLabel(edge.dependency.condition, edge.dependency.required, edge.dependency.restart),
    }));
  const walk = (name: string, prefix: string, depth: number): void => {
    const below = children(name);
    below.forEach((child, index) => {
      const last = index === below.length - 1;
      const repeated = shown.has(child.to) && children(child.to).length > 0;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${child.to} (${child.label})${repeated ? ' …' : ''}`);
      if (!repeated && depth < 64) {
        shown.add(child.to);
        walk(child.to, `${prefix}${last ? '    ' : '│   '}`, depth + 1);
      }
    });
  };
  const roots = [...project.services.keys()].filter((name) => graph.dependents(name, { direct: true }).length === 0).sort();
  for (const root of roots) {
    lines.push(root);
    shown.add(root);
    walk(root, '', 0);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

const quote = (text: string): string => `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;

function renderDot(project: Project, graph: ProjectGraph): string {
  const lines = [`digraph ${quote(project.name)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const name of [...project.services.keys()].sort()) lines.push(`  ${quote(name)};`);
  for (const edge of graph.edges) {
    const style = edge.dependency.required ? '' : ', style=dashed';
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)} [label=${quote(edge.dependency.condition)}${style}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function renderMermaid(project: Project, graph: ProjectGraph): string {
  const names = [...project.services.keys()].sort();
  const id = new Map(names.map((name, index) => [name, `s${index}`]));
  const lines = ['graph LR'];
  for (const name of names) lines.push(`  ${id.get(name)}["${name.replace(/"/g, '#quot;')}"]`);
  for (const edge of graph.edges) {
    const arrow = edge.dependency.required ? '-->' : '-.->';
    lines.push(`  ${id.get(edge.from)} ${arrow}|${edge.dependency.condition}| ${id.get(edge.to)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Renders the service graph in `format`. */
export function renderGraph(project: Project, graph: ProjectGraph, format: GraphFormat = 'tree'): string {
  if (format === 'dot') return renderDot(project, graph);
  if (format === 'mermaid') return renderMermaid(project, graph);
  return renderTree(project, graph);
}
